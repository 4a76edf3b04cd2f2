"""Vectorizable elementwise math for the numba DTW kernels, in float32 and float64.

numba calls libm's scalar ``exp``/``log`` unless Intel SVML is installed, which stops LLVM from vectorizing
a loop over the batch lanes. These versions are plain arithmetic (range reduction, a Taylor polynomial, and an
integer-to-float bit cast for ``2^k``), so a lane loop compiles to SIMD code. Accuracy: about 1 ulp.

- ``exp_nonpos(x)``: ``exp(x)`` for ``x <= 0`` (``-inf`` allowed); results below ``exp(-60)`` (float32) or
  ``exp(-708)`` (float64) are flushed to 0.
- ``log_1_to_3(s)``: ``log(s)`` for ``1 <= s <= 3`` (the sum of three softmin weights, one of which is 1).
- ``like(value, x)``: ``value`` cast to the float type of ``x``, so constants do not promote float32 to float64.
"""
from __future__ import annotations

import math

import numpy as np
from numba import literal_unroll, njit, types
from numba.extending import intrinsic, overload

#: LLVM fast-math flags that are safe with +-inf: fused multiply-add, reciprocal, signed zeros.
FASTMATH = {"contract", "arcp", "nsz"}

_LN2 = math.log(2.0)
# Cody-Waite splits of log(2): hi has trailing zero bits so k * hi is exact.
_LN2_HI_32, _LN2_LO_32 = 0.693359375, -2.12194440e-4
_LN2_HI_64, _LN2_LO_64 = 6.93147180369123816490e-01, 1.90821492927058770002e-10
# Taylor coefficients 1/k!, highest first; the reduced argument |r| <= log(2)/2 bounds the error below 1 ulp.
_EXP_COEFFS_32 = tuple(1.0 / math.factorial(k) for k in range(8, -1, -1))
_EXP_COEFFS_64 = tuple(1.0 / math.factorial(k) for k in range(13, -1, -1))
# log(s) = 2 atanh(u), u = (s - 1) / (s + 1) with |u| <= 0.2 after halving s > sqrt(2): coefficients 1/(2k+1).
_ATANH_COEFFS_32 = tuple(1.0 / (2 * k + 1) for k in range(6, -1, -1))
_ATANH_COEFFS_64 = tuple(1.0 / (2 * k + 1) for k in range(13, -1, -1))


@intrinsic
def _bits_to_float(typingctx, bits):
    """Reinterpret int32 bits as float32, int64 bits as float64."""
    out = types.float32 if bits == types.int32 else types.float64
    sig = out(bits)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(out))

    return sig, codegen


def like(value, x):  # pragma: no cover - replaced by the overload inside numba
    return value


@overload(like)
def _like(value, x):
    float_type = x

    def impl(value, x):
        return float_type(value)

    return impl


def _horner(coeffs, float_type):
    """A jitted polynomial ``p(r)`` with the given coefficients (highest first) in ``float_type``."""
    cs = tuple(float_type(c) for c in coeffs)

    @njit(inline="always", fastmath=FASTMATH, error_model="numpy")
    def poly(r):
        p = cs[0]
        for c in literal_unroll(cs[1:]):
            p = p * r + c
        return p

    return poly


def exp_nonpos(x):  # pragma: no cover - replaced by the overload inside numba
    return math.exp(x)


_exp_poly = {32: _horner(_EXP_COEFFS_32, np.float32), 64: _horner(_EXP_COEFFS_64, np.float64)}


def _make_exp(float_type, int_type, bias, shift, lowest, ln2_hi, ln2_lo, poly):
    """``exp(x)`` for ``x <= 0``: ``x = k log 2 + r``, ``exp(x) = p(r) 2^k`` with ``2^k`` built from its bits."""
    lowest, hi, lo = float_type(lowest), float_type(ln2_hi), float_type(ln2_lo)
    log2e, half, zero = float_type(1 / _LN2), float_type(0.5), float_type(0.0)

    def impl(x):
        xc = max(x, lowest)
        k = np.floor(xc * log2e + half)
        r = (xc - k * hi) - k * lo
        y = poly(r) * _bits_to_float(int_type((np.int64(k) + bias) << shift))
        return y if x >= lowest else zero

    return impl


# float32 flushes below exp(-60) (not at the denormal limit exp(-87)): products of such weights stay normal.
_exp_impl = {
    types.float32: _make_exp(np.float32, np.int32, 127, 23, -60.0, _LN2_HI_32, _LN2_LO_32, _exp_poly[32]),
    types.float64: _make_exp(np.float64, np.int64, 1023, 52, -708.0, _LN2_HI_64, _LN2_LO_64, _exp_poly[64]),
}


@overload(exp_nonpos, jit_options={"fastmath": FASTMATH, "error_model": "numpy"})
def _exp_nonpos(x):
    return _exp_impl.get(x)


def log_1_to_3(s):  # pragma: no cover - replaced by the overload inside numba
    return math.log(s)


_atanh_poly = {32: _horner(_ATANH_COEFFS_32, np.float32), 64: _horner(_ATANH_COEFFS_64, np.float64)}


@overload(log_1_to_3, jit_options={"fastmath": FASTMATH, "error_model": "numpy"})
def _log_1_to_3(s):
    bits = 32 if s == types.float32 else 64
    poly = _atanh_poly[bits]
    ftype = np.float32 if bits == 32 else np.float64
    sqrt2, ln2 = ftype(math.sqrt(2.0)), ftype(_LN2)

    def impl(s):
        big = s > sqrt2
        t = s * like(0.5, s) if big else s
        u = (t - like(1.0, s)) / (t + like(1.0, s))
        value = like(2.0, s) * u * poly(u * u)
        return value + ln2 if big else value

    return impl
