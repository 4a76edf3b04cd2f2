"""Training: the config schema, the trainer with resumable checkpoints, and embedding videos with a checkpoint."""
