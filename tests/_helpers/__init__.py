"""What several test modules share: small data builders, reference implementations written cell by cell, and
test doubles. Imported as `tests._helpers.<name>`."""
