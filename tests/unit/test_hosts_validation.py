"""Host model rules (vpshealth.domain.hosts) and CLI option validation (cli.host_input)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from vpshealth.cli.host_input import build_host
from vpshealth.domain.hosts import (
    DEFAULT_INTERVAL_SECONDS,
    LOCAL_HOST_LABEL,
    LOCAL_HOST_NAME,
    AuthMethod,
    Host,
    HostKind,
    check_address,
    check_fingerprint,
    check_name,
    check_tag,
    check_user,
    local_host,
)
from vpshealth.errors import InputError

# Written out here rather than imported, so the test states the contract independently.
SHELL_METACHARACTERS = frozenset(";&|`$<>()\\\"'*?[]{}!#~ \t")
UNSAFE_SAMPLES = [
    ";",
    "|",
    "&",
    "`",
    "$",
    "(",
    ")",
    "<",
    ">",
    "'",
    '"',
    " ",
    "\t",
    "\\",
    "*",
    "\n",
    "\r",
    "\x00",
    "\x1b",
    "\x7f",
]


def _is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc"


def _is_safe(text: str) -> bool:
    return not any(c in SHELL_METACHARACTERS or _is_control(c) for c in text)


# --------------------------------------------------------------------------- Host defaults


def test_host_defaults() -> None:
    host = Host(name="web1", address="203.0.113.10")
    assert host.port == 22
    assert host.user == "root"
    assert host.interval_seconds == DEFAULT_INTERVAL_SECONDS == 15
    assert host.kind is HostKind.SSH
    assert host.auth is AuthMethod.KEY
    assert host.enabled is True
    assert host.tags == ()
    assert host.key_ref is None
    assert host.host_key is None
    assert host.is_local is False


def test_local_host() -> None:
    host = local_host()
    assert host.name == LOCAL_HOST_NAME == "localhost"
    assert host.kind is HostKind.LOCAL
    assert host.is_local is True
    assert host.address == "127.0.0.1"
    assert host.auth is AuthMethod.NONE
    assert host.user == "root"
    assert host.interval_seconds == 15
    assert host.display_address == LOCAL_HOST_LABEL == "This computer"


@pytest.mark.parametrize(
    ("address", "port", "shown"),
    [
        ("203.0.113.10", 22, "203.0.113.10"),
        ("203.0.113.10", 2222, "203.0.113.10:2222"),
        ("web.example.com", 22, "web.example.com"),
        ("web.example.com", 8022, "web.example.com:8022"),
        ("2001:db8::1", 22, "[2001:db8::1]:22"),
        ("2001:db8::1", 2222, "[2001:db8::1]:2222"),
    ],
)
def test_display_address(address: str, port: int, shown: str) -> None:
    assert Host(name="h", address=address, port=port).display_address == shown


def test_host_is_frozen_and_rejects_unknown_fields() -> None:
    host = Host(name="web1", address="203.0.113.10")
    with pytest.raises(ValidationError):
        host.port = 2222  # type: ignore[misc]
    with pytest.raises(ValidationError, match="extra"):
        Host(name="web1", address="203.0.113.10", password="hunter2")  # type: ignore[call-arg]


def test_host_normalises_address_and_validates_each_tag() -> None:
    host = Host(name="web1", address="Web1.Example.COM.", tags=["prod", "env:eu"])  # type: ignore[arg-type]
    assert host.address == "web1.example.com"
    assert host.tags == ("prod", "env:eu")
    with pytest.raises(ValidationError) as info:
        Host(name="web1", address="203.0.113.10", tags=("prod", "bad tag"))
    assert info.value.errors()[0]["loc"] == ("tags", 1)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("port", 0),
        ("port", 65536),
        ("port", -1),
        ("interval_seconds", 4),
        ("interval_seconds", 3601),
        ("interval_seconds", 0),
    ],
)
def test_host_rejects_out_of_range_numbers(field: str, value: int) -> None:
    with pytest.raises(ValidationError) as info:
        Host(name="web1", address="203.0.113.10", **{field: value})
    assert info.value.errors()[0]["loc"] == (field,)


@pytest.mark.parametrize(
    ("field", "value"),
    [("port", 1), ("port", 65535), ("interval_seconds", 5), ("interval_seconds", 3600)],
)
def test_host_accepts_range_boundaries(field: str, value: int) -> None:
    host = Host(name="web1", address="203.0.113.10", **{field: value})
    assert getattr(host, field) == value


# --------------------------------------------------------------------------- check_address


@pytest.mark.parametrize(
    ("given_address", "normalised"),
    [
        ("203.0.113.10", "203.0.113.10"),
        ("0.0.0.0", "0.0.0.0"),
        ("255.255.255.255", "255.255.255.255"),
        ("::1", "::1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("[::1]", "::1"),
        ("[2001:DB8:0:0::1]", "2001:db8::1"),
        ("localhost", "localhost"),
        ("Example.COM", "example.com"),
        ("example.com.", "example.com"),
        ("web-1.eu-west.example.org", "web-1.eu-west.example.org"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("a" * 63 + ".example", "a" * 63 + ".example"),
        ("1host.example", "1host.example"),
    ],
)
def test_check_address_accepts_and_normalises(given_address: str, normalised: str) -> None:
    assert check_address(given_address) == normalised


def test_check_address_accepts_253_character_name() -> None:
    name = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])
    assert len(name) == 253
    assert check_address(name) == name
    assert check_address(name + ".") == name


@pytest.mark.parametrize(
    "bad",
    [
        "",
        ".",
        "[]",
        "[::1",
        "1.2.3",
        "256.1.1.1",
        "1.2.3.4.5",
        "01.2.3.4",
        "123",
        "host.123",
        "-web.example.com",
        "web-.example.com",
        "web..example.com",
        "web_1.example.com",
        "a" * 64 + ".example",
        ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 62]),
        "wéb.example",
        "2001:db8::g",
        ":::1",
    ],
)
def test_check_address_rejects_malformed(bad: str) -> None:
    with pytest.raises(ValueError, match=r"DNS name|not allowed|ASCII"):
        check_address(bad)


@pytest.mark.parametrize("char", UNSAFE_SAMPLES)
def test_check_address_rejects_shell_and_control_characters(char: str) -> None:
    with pytest.raises(ValueError, match=r"control character|not allowed"):
        check_address(f"web{char}1.example.com")


@pytest.mark.parametrize("payload", ["$(reboot)", "`id`", "a.com;rm -rf /", "a.com|nc", "a&&b"])
def test_check_address_rejects_injection(payload: str) -> None:
    with pytest.raises(ValueError, match="not allowed"):
        check_address(payload)


@pytest.mark.parametrize("scope", ["\x85", "\x9b", "eth\x850"])
def test_check_address_rejects_control_character_in_ipv6_scope(scope: str) -> None:
    # C1 control characters (U+0080..U+009F) are control characters too; the IPv6 zone
    # ("%scope") part must not let them through.
    with pytest.raises(ValueError):
        check_address(f"fe80::1%{scope}")


# --------------------------------------------------------------------------- check_name


@pytest.mark.parametrize("good", ["web1", "a", "9lives", "A.b_c-d", "x" * 63, "db-01.prod"])
def test_check_name_accepts(good: str) -> None:
    assert check_name(good) == good


@pytest.mark.parametrize(
    "bad", ["", "x" * 64, "-web", ".web", "_web", "web/1", "wéb", "web\u200b", "web:1"]
)
def test_check_name_rejects_bad_shapes(bad: str) -> None:
    with pytest.raises(ValueError, match=r"1-63 letters|not allowed|control character"):
        check_name(bad)


@pytest.mark.parametrize("char", UNSAFE_SAMPLES)
def test_check_name_rejects_shell_and_control_characters(char: str) -> None:
    with pytest.raises(ValueError, match=r"control character|not allowed") as info:
        check_name(f"web{char}1")
    if char in SHELL_METACHARACTERS and not _is_control(char):
        assert char in str(info.value)


def test_check_name_reports_control_character_as_such() -> None:
    with pytest.raises(ValueError, match="the name contains a control character"):
        check_name("web\n1")


# --------------------------------------------------------------------------- check_user


@pytest.mark.parametrize("good", ["root", "_apt", "deploy.user", "a-b", "u" * 32, "ec2-user"])
def test_check_user_accepts(good: str) -> None:
    assert check_user(good) == good


@pytest.mark.parametrize("bad", ["", "u" * 33, "-oProxyCommand", "1abc", ".hidden", "jürgen"])
def test_check_user_rejects_bad_shapes(bad: str) -> None:
    with pytest.raises(ValueError, match=r"Unix user name|not allowed"):
        check_user(bad)


@pytest.mark.parametrize("char", UNSAFE_SAMPLES)
def test_check_user_rejects_shell_and_control_characters(char: str) -> None:
    with pytest.raises(ValueError, match=r"control character|not allowed"):
        check_user(f"ro{char}ot")


# --------------------------------------------------------------------------- check_tag


@pytest.mark.parametrize("good", ["prod", "env:prod", "a.b_c-d", "t" * 32, "9"])
def test_check_tag_accepts(good: str) -> None:
    assert check_tag(good) == good


@pytest.mark.parametrize("bad", ["", "t" * 33, "-prod", ":prod", "_x", "a,b", "a/b", "ünï"])
def test_check_tag_rejects_bad_shapes(bad: str) -> None:
    with pytest.raises(ValueError, match=r"1-32 letters|not allowed"):
        check_tag(bad)


@pytest.mark.parametrize("char", UNSAFE_SAMPLES)
def test_check_tag_rejects_shell_and_control_characters(char: str) -> None:
    with pytest.raises(ValueError, match=r"control character|not allowed"):
        check_tag(f"pr{char}od")


# --------------------------------------------------------------------------- check_fingerprint

FP_BODY = "nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"


def test_check_fingerprint_accepts_and_strips_padding() -> None:
    assert len(FP_BODY) == 43
    assert check_fingerprint(f"SHA256:{FP_BODY}") == f"SHA256:{FP_BODY}"
    assert check_fingerprint(f"SHA256:{FP_BODY}=") == f"SHA256:{FP_BODY}"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        FP_BODY,
        f"sha256:{FP_BODY}",
        f"MD5:{FP_BODY}",
        f"SHA256:{FP_BODY[:-1]}",
        f"SHA256:{FP_BODY}A",
        f"SHA256:{FP_BODY}==",
        f"SHA256: {FP_BODY}",
        f"SHA256:{FP_BODY[:-1]}-",
        f"SHA256:{FP_BODY}\n",
    ],
)
def test_check_fingerprint_rejects(bad: str) -> None:
    with pytest.raises(ValueError, match="SHA256 fingerprint"):
        check_fingerprint(bad)


# --------------------------------------------------------------------------- property tests

CHECKS: list[Callable[[str], str]] = [check_name, check_address, check_user, check_tag]

# Arbitrary text, plus text glued to prefixes that get deep into each validator's accepting
# paths (IPv4, IPv6 with a zone, DNS names, bracketed IPv6).
_interesting_text = st.one_of(
    st.text(),
    st.builds(
        lambda prefix, rest: prefix + rest,
        st.sampled_from(["web", "1.2.3.4", "::1%", "fe80::1%", "[::1", "a.example.", "env:"]),
        st.text(),
    ),
)


@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
@settings(max_examples=400, deadline=None)
@given(text=_interesting_text)
@example(text="fe80::1%\x85")
@example(text="web1.example.com")
def test_checks_return_safe_text_or_raise_value_error(
    check: Callable[[str], str], text: str
) -> None:
    try:
        result = check(text)
    except ValueError:
        return
    assert isinstance(result, str)
    assert result, "an accepted value is never empty"
    assert _is_safe(result), f"{check.__name__}({text!r}) returned unsafe {result!r}"
    # Normalisation is idempotent: a stored value validates to itself.
    assert check(result) == result


@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
@settings(max_examples=200, deadline=None)
@given(
    prefix=st.text(alphabet="abc123", min_size=1, max_size=5),
    bad=st.sampled_from([*sorted(SHELL_METACHARACTERS), "\n", "\x00", "\x7f", "\x1f"]),
)
def test_checks_reject_any_metacharacter_anywhere(
    check: Callable[[str], str], prefix: str, bad: str
) -> None:
    for candidate in (prefix + bad, bad + prefix, prefix + bad + prefix):
        with pytest.raises(ValueError):
            check(candidate)


# --------------------------------------------------------------------------- build_host


def test_build_host_applies_defaults() -> None:
    host = build_host({"name": "web1", "address": "203.0.113.10"})
    assert host == Host(
        name="web1",
        address="203.0.113.10",
        port=22,
        user="root",
        interval_seconds=15,
    )


def test_build_host_normalises_fields() -> None:
    host = build_host(
        {
            "name": "web1",
            "address": "2001:DB8:0:0::1",
            "port": 2222,
            "user": "deploy",
            "interval_seconds": 60,
            "tags": ("prod", "eu"),
        }
    )
    assert host.address == "2001:db8::1"
    assert (host.port, host.user, host.interval_seconds, host.tags) == (
        2222,
        "deploy",
        60,
        ("prod", "eu"),
    )


@pytest.mark.parametrize(
    ("fields", "option", "shown", "reason"),
    [
        ({"port": 0}, "--port", "0", "between 1 and 65535"),
        ({"port": 65536}, "--port", "65536", "between 1 and 65535"),
        ({"port": -22}, "--port", "-22", "between 1 and 65535"),
        ({"interval_seconds": 4}, "--interval", "4", "between 5 and 3600"),
        ({"interval_seconds": 3601}, "--interval", "3601", "between 5 and 3600"),
        ({"address": "a;b"}, "--address", "'a;b'", "not allowed: ;"),
        ({"address": ""}, "--address", "''", "DNS name"),
        ({"address": "256.1.1.1"}, "--address", "'256.1.1.1'", "DNS name"),
        ({"address": "web\n1"}, "--address", "'web\\n1'", "control character"),
        ({"name": "we b"}, "NAME", "'we b'", "not allowed"),
        ({"name": ""}, "NAME", "''", "1-63 letters"),
        ({"name": "x$(id)"}, "NAME", "'x$(id)'", "not allowed: $ ( )"),
        ({"name": "web\x00"}, "NAME", "'web\\x00'", "control character"),
        ({"user": "x\ny"}, "--user", "'x\\ny'", "control character"),
        ({"user": "-oProxyCommand=x"}, "--user", "'-oProxyCommand=x'", "Unix user name"),
        ({"tags": ("ok", "b$d")}, "--tag", "'b$d'", "not allowed: $"),
        ({"tags": ("",)}, "--tag", "''", "1-32 letters"),
    ],
)
def test_build_host_errors_name_the_option(
    fields: dict[str, Any], option: str, shown: str, reason: str
) -> None:
    with pytest.raises(InputError) as info:
        build_host({"name": "web1", "address": "203.0.113.10", **fields})
    message = str(info.value)
    assert "\n" not in message
    assert "\r" not in message
    assert message.startswith(f"invalid {option} {shown}: ")
    assert reason in message
    assert message.endswith("Nothing was saved.")
    assert info.value.exit_code == 2


def test_build_host_shortens_long_values() -> None:
    with pytest.raises(InputError) as info:
        build_host({"name": "web1", "address": "x" * 300})
    message = str(info.value)
    assert message.startswith("invalid --address 'xxxx")
    assert "..." in message
    assert "x" * 61 not in message
    assert message.endswith("Nothing was saved.")


def test_build_host_reports_first_of_several_errors_only() -> None:
    with pytest.raises(InputError) as info:
        build_host({"name": "web1", "address": "a b", "port": 0})
    assert str(info.value).count("invalid") == 1
