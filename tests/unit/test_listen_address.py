from __future__ import annotations

from pathlib import Path

import pytest

from vpshealth.domain.listen_address import (
    ListenAddressError,
    is_loopback,
    parse_listen_address,
)


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("127.0.0.1:8765", "127.0.0.1", 8765),
        ("[::1]:1", "::1", 1),
        ("localhost:80", "localhost", 80),
    ],
)
def test_loopback_addresses_are_accepted_without_tls(text: str, host: str, port: int) -> None:
    address = parse_listen_address(text)
    assert (address.host, address.port, address.loopback, address.tls) == (host, port, True, False)


@pytest.mark.parametrize("text", ["0.0.0.0:8765", "192.168.1.5:80", "[::]:80", "example.com:80"])
def test_a_reachable_address_without_tls_is_refused_with_the_way_out(text: str) -> None:
    with pytest.raises(ListenAddressError) as caught:
        parse_listen_address(text)
    assert "ssh -N -L" in str(caught.value)
    assert "--tls-cert" in str(caught.value)


def test_a_reachable_address_with_tls_is_accepted() -> None:
    address = parse_listen_address("0.0.0.0:8443", Path("c.pem"), Path("k.pem"))
    assert address.tls
    assert address.url == "https://0.0.0.0:8443"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("8765", "HOST:PORT"),
        (":8765", "HOST:PORT"),
        ("127.0.0.1:0", "1 to 65535"),
        ("127.0.0.1:99999", "1 to 65535"),
        ("127.0.0.1:http", "1 to 65535"),
        ("::1:8765", "brackets"),
    ],
)
def test_malformed_addresses_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ListenAddressError, match=says):
        parse_listen_address(text)


def test_tls_needs_both_files() -> None:
    with pytest.raises(ListenAddressError, match="both"):
        parse_listen_address("127.0.0.1:1", Path("c.pem"), None)


def test_loopback_detection() -> None:
    assert is_loopback("127.5.6.7")
    assert is_loopback("LOCALHOST")
    assert not is_loopback("10.0.0.1")
    assert not is_loopback("not an address")
