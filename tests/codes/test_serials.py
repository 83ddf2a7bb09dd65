"""Tests for codes.serials: FF1 conformance, uniqueness, unpredictability, verification, PINs."""

import hashlib
import hmac

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codes.serials import (
    CROCKFORD32,
    DIGITS,
    FF1,
    GS1_CSET82,
    SerialCodec,
    SerialFormat,
    pin_matches,
    scratch_pin,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
GTIN = "09506000134352"
OTHER_GTIN = "09506000134369"  # same company prefix, next item reference
BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
FORMATS = [SerialFormat.ALNUM, SerialFormat.NUMERIC]
FORMAT_IDS = ["alnum", "numeric"]

NIST_KEY = "2B7E151628AED2A6ABF7158809CF4F3C"
NIST_INPUTS = [
    (10, "", "0123456789"),
    (10, "39383736353433323130", "0123456789"),
    (36, "3737373770717273373737", "0123456789abcdefghi"),
]
NIST_OUTPUTS = {
    NIST_KEY: ["2433477484", "6124200773", "a9tv40mll9kdu509eum"],
    NIST_KEY + "EF4359D8D580AA4F": ["2830668132", "2496655549", "xbj3kv35jrawxv32ysr"],
    NIST_KEY + "EF4359D8D580AA4F7F036D6F04FC6A94": ["6657667009", "1001623463", "xs8a0azh2avyalyzuwd"],
}
# (key hex, radix, tweak hex, plaintext, ciphertext): SP 800-38G FF1 samples 1-9.
NIST_VECTORS = [(key, *NIST_INPUTS[i], out) for key, outs in NIST_OUTPUTS.items() for i, out in enumerate(outs)]
NIST_IDS = [f"sample{i + 1}" for i in range(9)]

SETTINGS = settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])


def _numerals(text: str) -> list[int]:
    return [BASE36.index(ch) for ch in text]


def _text(numerals) -> str:
    return "".join(BASE36[int(i)] for i in numerals)


def _ordinals(numerals: np.ndarray, radix: int) -> np.ndarray:
    powers = np.array([radix**k for k in range(numerals.shape[1] - 1, -1, -1)], dtype=np.int64)
    return (numerals.astype(np.int64) * powers).sum(axis=1)


def _matrix(serials: list[str], length: int) -> np.ndarray:
    return np.frombuffer("".join(serials).encode("ascii"), dtype=np.uint8).reshape(-1, length)


# --- FF1 conformance -------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "radix", "tweak", "plain", "cipher"), NIST_VECTORS, ids=NIST_IDS)
def test_ff1_nist_vectors_scalar(key, radix, tweak, plain, cipher):
    ff1 = FF1(bytes.fromhex(key), radix)
    assert _text(ff1.encrypt(bytes.fromhex(tweak), _numerals(plain))) == cipher
    assert _text(ff1.decrypt(bytes.fromhex(tweak), _numerals(cipher))) == plain


@pytest.mark.parametrize(("key", "radix", "tweak", "plain", "cipher"), NIST_VECTORS, ids=NIST_IDS)
def test_ff1_nist_vectors_batch(key, radix, tweak, plain, cipher):
    ff1 = FF1(bytes.fromhex(key), radix)
    t = bytes.fromhex(tweak)
    # Several different rows in one batch, so a mix-up between rows cannot go unnoticed.
    rows = np.array([_numerals(plain), _numerals(cipher), _numerals(plain[::-1])])
    encrypted = ff1.encrypt_many(t, rows)
    assert _text(encrypted[0]) == cipher
    assert [list(row) for row in encrypted] == [ff1.encrypt(t, list(row)) for row in rows]
    assert _text(ff1.decrypt_many(t, np.array([_numerals(cipher)]))[0]) == plain
    assert np.array_equal(ff1.decrypt_many(t, encrypted), rows)


@st.composite
def _ff1_cases(draw):
    radix = draw(st.integers(2, 2**16))
    # Lengths FF1 accepts and the batch path supports, capped to keep examples quick.
    lengths = [n for n in range(2, 41) if radix**n >= 1_000_000 and radix ** (n - n // 2) < 2**56]
    n = draw(st.sampled_from(lengths))
    key = draw(st.sampled_from([16, 24, 32]).flatmap(lambda size: st.binary(min_size=size, max_size=size)))
    tweak = draw(st.binary(max_size=40))  # 0..40 bytes: Q spans one to four blocks
    rows = draw(st.lists(st.lists(st.integers(0, radix - 1), min_size=n, max_size=n), min_size=1, max_size=8))
    return FF1(key, radix), tweak, np.array(rows, dtype=np.int64)


@SETTINGS
@given(_ff1_cases())
def test_ff1_batch_equals_scalar_and_inverts(case):
    ff1, tweak, rows = case
    encrypted = ff1.encrypt_many(tweak, rows)
    assert [list(row) for row in encrypted] == [ff1.encrypt(tweak, list(row)) for row in rows]
    assert [ff1.decrypt(tweak, list(row)) for row in encrypted] == [list(row) for row in rows]
    assert np.array_equal(ff1.decrypt_many(tweak, encrypted), rows)


def test_ff1_rejects_bad_parameters():
    with pytest.raises(ValueError):
        FF1(bytes(20), 10)
    with pytest.raises(ValueError):
        FF1(bytes(16), 1)
    ff1 = FF1(bytes(16), 10)
    with pytest.raises(ValueError):
        ff1.encrypt(b"", [1, 2, 3, 4, 5])  # 10**5 < FF1's domain minimum
    with pytest.raises(ValueError):
        ff1.encrypt(b"", [0, 1, 2, 3, 4, 5, 6, 7, 8, 10])
    with pytest.raises(ValueError):
        ff1.encrypt_many(b"", np.array([[0, 1, 2, 3, 4, 5, 6, 7, 8, -1]]))


# --- SerialFormat ----------------------------------------------------------------------------


def test_standard_formats():
    assert (SerialFormat.ALNUM.alphabet, SerialFormat.ALNUM.length) == (CROCKFORD32, 12)
    assert (SerialFormat.NUMERIC.alphabet, SerialFormat.NUMERIC.length) == (DIGITS, 13)
    assert SerialFormat.ALNUM.radix == 32
    assert SerialFormat.ALNUM.space == 2**60
    assert SerialFormat.NUMERIC.space == 10**13
    assert SerialFormat.ALNUM.guess_probability(1_000_000) == 1_000_000 / 2**60
    assert SerialFormat.NUMERIC.guess_probability(0) == 0.0
    with pytest.raises(ValueError):
        SerialFormat.NUMERIC.guess_probability(-1)
    with pytest.raises(ValueError):
        SerialFormat.NUMERIC.guess_probability(10**13 + 1)


@pytest.mark.parametrize(
    ("alphabet", "length"),
    [
        (DIGITS, 6),  # exactly 10**6
        ("01", 20),
        (CROCKFORD32, 20),
        (BASE36, 20),
        (GS1_CSET82[:62], 18),
        (GS1_CSET82, 8),
    ],
)
def test_valid_formats_accepted(alphabet, length):
    assert SerialFormat(alphabet, length).space == len(alphabet) ** length


@pytest.mark.parametrize(
    ("alphabet", "length"),
    [
        (DIGITS, 5),  # 10**5 < FF1 domain minimum
        ("01", 19),  # 2**19 < 10**6
        (DIGITS, 21),  # GS1 AI 21 allows at most 20 characters
        (DIGITS, 0),
        ("0123456789A1", 12),  # duplicate character
        ("0", 20),  # single character
        ("", 20),
        ("0123456789 ", 12),  # space is not in GS1 character set 82
        ("0123456789é", 12),
        (GS1_CSET82[:62], 20),  # 62**10 >= 2**56: batch arithmetic would overflow
    ],
)
def test_invalid_formats_rejected(alphabet, length):
    with pytest.raises(ValueError):
        SerialFormat(alphabet, length)


# --- SerialCodec: uniqueness and unpredictability -----------------------------------------------


def test_serials_are_frozen():
    """Printed codes must keep verifying: the ordinal -> serial mapping may never change."""
    alnum = SerialCodec(KEY, GTIN, SerialFormat.ALNUM)
    numeric = SerialCodec(KEY, GTIN, SerialFormat.NUMERIC)
    assert alnum.serials(0, 3) == ["KR6762JWM5FA", "WZEHPKRW2J1E", "CBCSWQX960RW"]
    assert numeric.serials(0, 3) == ["6836729985184", "4465151442001", "5915950311499"]
    assert [alnum.serial(i) for i in range(3)] == alnum.serials(0, 3)


@pytest.mark.parametrize("fmt", FORMATS, ids=FORMAT_IDS)
def test_200k_serials_unique_well_formed_and_uniform(fmt):
    serials = SerialCodec(KEY, GTIN, fmt).serials(0, 200_000)
    assert len(serials) == 200_000
    assert len(set(serials)) == 200_000
    assert all(len(s) == fmt.length for s in serials)
    assert set("".join(serials)) <= set(fmt.alphabet)
    # Every character about equally frequent at every position.
    chars = _matrix(serials, fmt.length)
    expected = 200_000 / fmt.radix
    for position in range(fmt.length):
        counts = np.array([np.count_nonzero(chars[:, position] == ord(ch)) for ch in fmt.alphabet])
        assert np.abs(counts - expected).max() < 0.08 * expected


@pytest.mark.parametrize("fmt", FORMATS, ids=FORMAT_IDS)
def test_adjacent_ordinals_give_unrelated_serials(fmt):
    serials = SerialCodec(KEY, GTIN, fmt).serials(10_000, 20_001)
    chars = _matrix(serials, fmt.length)
    equal = (chars[1:] == chars[:-1]).sum(axis=1)
    assert abs(equal.mean() - fmt.length / fmt.radix) < 0.05
    # Common prefix length of neighbours is geometric for random strings: mean 1/(radix - 1).
    prefix = np.cumprod(chars[1:] == chars[:-1], axis=1).sum(axis=1)
    assert abs(prefix.mean() - 1 / (fmt.radix - 1)) < 0.02
    # Sort order of serials says nothing about print order.
    ranks = np.argsort(np.argsort(np.array(serials)))
    assert abs(np.corrcoef(ranks, np.arange(len(serials)))[0, 1]) < 0.04


@pytest.mark.parametrize("fmt", FORMATS, ids=FORMAT_IDS)
def test_other_key_or_gtin_gives_other_serials(fmt):
    base = SerialCodec(KEY, GTIN, fmt).serials(0, 2_000)
    for other in (SerialCodec(OTHER_KEY, GTIN, fmt), SerialCodec(KEY, OTHER_GTIN, fmt)):
        serials = other.serials(0, 2_000)
        assert not set(serials) & set(base)
        equal = (_matrix(serials, fmt.length) == _matrix(base, fmt.length)).sum(axis=1)
        assert abs(equal.mean() - fmt.length / fmt.radix) < 0.15


@pytest.mark.parametrize("fmt", FORMATS, ids=FORMAT_IDS)
def test_single_character_change_is_never_issued(fmt):
    issued = 100_000
    codec = SerialCodec(KEY, GTIN, fmt)
    sample = codec.serials(0, issued)[::500]  # 200 issued serials
    index = {ch: i for i, ch in enumerate(fmt.alphabet)}
    numerals = np.array([[index[ch] for ch in s] for s in sample])
    mutants = []
    for position in range(fmt.length):
        for delta in range(1, fmt.radix):
            mutant = numerals.copy()
            mutant[:, position] = (mutant[:, position] + delta) % fmt.radix
            mutants.append(mutant)
    mutants = np.concatenate(mutants)
    assert len(mutants) == len(sample) * fmt.length * (fmt.radix - 1)
    ordinals = _ordinals(FF1(KEY, fmt.radix).decrypt_many(GTIN.encode(), mutants), fmt.radix)
    assert ordinals.min() >= issued
    # Same through the scalar verify path, for every mutation of one serial.
    serial = sample[7]
    for position in range(fmt.length):
        for ch in fmt.alphabet.replace(serial[position], ""):
            ordinal = codec.ordinal(serial[:position] + ch + serial[position + 1 :])
            assert ordinal is not None
            assert ordinal >= issued


# --- SerialCodec: round trips and batch == scalar --------------------------------------------------


@st.composite
def _codecs(draw):
    alphabet = draw(
        st.sampled_from([DIGITS, CROCKFORD32, BASE36, "01"])
        | st.lists(st.sampled_from(GS1_CSET82), min_size=2, max_size=82, unique=True).map("".join)
    )
    lengths = []
    for length in range(1, 21):
        try:
            SerialFormat(alphabet, length)
        except ValueError:
            continue
        lengths.append(length)
    fmt = SerialFormat(alphabet, draw(st.sampled_from(lengths)))
    key = draw(st.binary(min_size=32, max_size=32))
    gtin = draw(st.text(DIGITS, min_size=14, max_size=14))
    return SerialCodec(key, gtin, fmt)


@SETTINGS
@given(_codecs(), st.data())
def test_ordinal_inverts_serial(codec, data):
    fmt = codec.format
    ordinal = data.draw(st.integers(0, fmt.space - 1) | st.integers(max(0, fmt.space - 3), fmt.space - 1))
    serial = codec.serial(ordinal)
    assert len(serial) == fmt.length
    assert set(serial) <= set(fmt.alphabet)
    assert codec.ordinal(serial) == ordinal


@SETTINGS
@given(_codecs(), st.data())
def test_batch_serials_equal_scalar(codec, data):
    space = codec.format.space
    start = data.draw(st.integers(0, space - 1) | st.integers(max(0, space - 64), space - 1))
    count = data.draw(st.integers(0, min(40, space - start)))
    serials = codec.serials(start, count)
    assert serials == [codec.serial(start + k) for k in range(count)]
    assert [codec.ordinal(s) for s in serials] == list(range(start, start + count))


def test_batch_equals_scalar_across_chunk_boundaries():
    codec = SerialCodec(KEY, GTIN, SerialFormat.ALNUM)
    serials = codec.serials(65_000, 2_000)
    for k in (0, 535, 536, 537, 1_999):
        assert serials[k] == codec.serial(65_000 + k)


@pytest.mark.parametrize("fmt", [*FORMATS, SerialFormat(DIGITS, 6)], ids=[*FORMAT_IDS, "digits6"])
def test_batch_equals_scalar_where_the_low_half_wraps(fmt):
    # The batch path splits ordinals into halves (high, low = divmod(ordinal, radix**v)); a batch
    # whose low half wraps must carry into the high half.
    codec = SerialCodec(KEY, GTIN, fmt)
    low_modulus = fmt.radix ** (fmt.length - fmt.length // 2)
    for start in (low_modulus - 3, 7 * low_modulus - 2):
        assert codec.serials(start, 6) == [codec.serial(start + k) for k in range(6)]


@pytest.mark.parametrize("fmt", FORMATS, ids=FORMAT_IDS)
def test_ordinal_range_enforced(fmt):
    codec = SerialCodec(KEY, GTIN, fmt)
    for bad in (-1, fmt.space):
        with pytest.raises(ValueError):
            codec.serial(bad)
    with pytest.raises(ValueError):
        codec.serials(-1, 2)
    with pytest.raises(ValueError):
        codec.serials(0, -1)
    with pytest.raises(ValueError):
        codec.serials(fmt.space - 1, 2)
    assert codec.serials(fmt.space - 1, 1) == [codec.serial(fmt.space - 1)]
    assert codec.serials(5, 0) == []


def test_codec_rejects_bad_key_and_gtin():
    with pytest.raises(ValueError):
        SerialCodec(bytes(16), GTIN, SerialFormat.ALNUM)  # brand keys are AES-256
    for gtin in ("0950600013435", "095060001343521", "0950600013435X", "٠" * 14):
        with pytest.raises(ValueError):
            SerialCodec(KEY, gtin, SerialFormat.ALNUM)


def test_ordinal_rejects_malformed_serials():
    codec = SerialCodec(KEY, GTIN, SerialFormat.ALNUM)
    serial = codec.serial(42)
    for bad in ("", serial[:-1], serial + "0", "U" + serial[1:], "*" + serial[1:], "é" + serial[1:]):
        assert codec.ordinal(bad) is None
    numeric = SerialCodec(KEY, GTIN, SerialFormat.NUMERIC)
    digits = numeric.serial(42)
    assert numeric.ordinal(digits) == 42
    assert numeric.ordinal("A" + digits[1:]) is None
    assert numeric.ordinal(digits.replace("5", "S")) is None  # no Crockford-style rules for digits
    assert numeric.ordinal(digits.replace("1", "I")) is None
    assert numeric.ordinal(digits[:6] + "-" + digits[6:]) is None


def test_crockford_input_is_normalised():
    codec = SerialCodec(KEY, GTIN, SerialFormat.ALNUM)
    serials = codec.serials(0, 500)
    ordinal, serial = next(
        (i, s) for i, s in enumerate(serials) if "0" in s and "1" in s and any(c.isalpha() for c in s)
    )
    assert codec.ordinal(serial.lower()) == ordinal
    assert codec.ordinal(serial.replace("0", "o").replace("1", "l")) == ordinal
    assert codec.ordinal(serial.replace("0", "O").replace("1", "I")) == ordinal
    assert codec.ordinal(f"{serial[:4]}-{serial[4:8]}-{serial[8:]}") == ordinal
    assert SerialFormat.ALNUM.normalise(serial.lower()) == serial
    assert SerialFormat.NUMERIC.normalise("0O1l") == "0O1l"


# --- scratch PIN -------------------------------------------------------------------------------


def test_scratch_pin_is_deterministic_and_well_formed():
    serial = SerialCodec(KEY, GTIN, SerialFormat.ALNUM).serial(0)
    assert scratch_pin(KEY, GTIN, serial) == scratch_pin(KEY, GTIN, serial)
    for digits in (6, 7, 8):
        pin = scratch_pin(KEY, GTIN, serial, digits)
        assert len(pin) == digits
        assert pin.isascii() and pin.isdigit()
    assert len(scratch_pin(KEY, GTIN, serial)) == 7
    for digits in (5, 9):
        with pytest.raises(ValueError):
            scratch_pin(KEY, GTIN, serial, digits)


def test_scratch_pin_derivation_is_frozen():
    """PINs are printed, never stored: the derivation may never change."""
    serial = "0123456789AB"
    mac = hmac.new(KEY, b"serialize/scratch-pin/v1|" + f"{GTIN}|{serial}".encode(), hashlib.sha256).digest()
    assert scratch_pin(KEY, GTIN, serial, 8) == f"{int.from_bytes(mac, 'big') % 10**8:08d}"
    assert scratch_pin(KEY, GTIN, serial, 6) == f"{int.from_bytes(mac, 'big') % 10**6:06d}"


def test_scratch_pin_zero_padded():
    serials = SerialCodec(KEY, GTIN, SerialFormat.ALNUM).serials(0, 200)
    pins = [scratch_pin(KEY, GTIN, s, 6) for s in serials]
    assert any(pin.startswith("0") for pin in pins)
    assert all(len(pin) == 6 for pin in pins)


def test_scratch_pin_differs_across_serials_keys_and_gtins():
    serials = SerialCodec(KEY, GTIN, SerialFormat.ALNUM).serials(0, 1_000)
    pins = [scratch_pin(KEY, GTIN, s) for s in serials]
    assert len(set(pins)) >= 990
    assert sum(scratch_pin(OTHER_KEY, GTIN, s) == p for s, p in zip(serials, pins, strict=True)) <= 2
    assert sum(scratch_pin(KEY, OTHER_GTIN, s) == p for s, p in zip(serials, pins, strict=True)) <= 2


def test_pin_matches():
    serial = SerialCodec(KEY, GTIN, SerialFormat.ALNUM).serial(3)
    pin = scratch_pin(KEY, GTIN, serial)
    assert pin_matches(KEY, GTIN, serial, pin)
    wrong_last = pin[:-1] + str((int(pin[-1]) + 1) % 10)
    other_serial = SerialCodec(KEY, GTIN, SerialFormat.ALNUM).serial(4)
    for candidate in (wrong_last, pin[:-1], pin + "0", "", "٠" * 7, scratch_pin(KEY, GTIN, other_serial)):
        assert not pin_matches(KEY, GTIN, serial, candidate)
    assert not pin_matches(OTHER_KEY, GTIN, serial, pin)
    assert not pin_matches(KEY, OTHER_GTIN, serial, pin)
    pin8 = scratch_pin(KEY, GTIN, serial, 8)
    assert pin_matches(KEY, GTIN, serial, pin8, digits=8)
    assert not pin_matches(KEY, GTIN, serial, pin8)
