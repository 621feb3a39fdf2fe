"""What a user types to reach a node: ssh:// or https://, and clear errors for the rest."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpshealth.errors import InputError
from vpshealth.sync.node_address import (
    DEFAULT_API_PORT,
    NodeAddress,
    NodeAddressError,
    NodeScheme,
    parse_node_address,
)


def test_an_ssh_address_with_the_defaults() -> None:
    address = parse_node_address("ssh://root@node.example.com")
    assert address == NodeAddress(NodeScheme.SSH, "node.example.com", 22, user="root")
    assert address.api_port == DEFAULT_API_PORT == 8765
    assert address.text == "ssh://root@node.example.com"
    assert address.is_ssh


def test_an_ssh_address_with_a_port_an_ipv6_host_and_an_api_port() -> None:
    address = parse_node_address("ssh://vh@[2001:DB8::1]:2222", api_port=9000)
    assert (address.host, address.port, address.user, address.api_port) == (
        "2001:db8::1",
        2222,
        "vh",
        9000,
    )
    assert address.text == "ssh://vh@[2001:db8::1]:2222"
    assert parse_node_address(address.text, 9000) == address


def test_an_https_address_with_a_port_and_a_prefix() -> None:
    address = parse_node_address("https://Node.Example.com:8443/vpshealth/")
    assert (address.host, address.port, address.prefix) == ("node.example.com", 8443, "/vpshealth")
    assert address.api_url == "https://node.example.com:8443/vpshealth"
    assert parse_node_address("https://node.example.com").api_url == "https://node.example.com"


def test_http_is_for_loopback_only_because_the_token_would_cross_the_network_in_clear() -> None:
    assert parse_node_address("http://127.0.0.1:8765").api_url == "http://127.0.0.1:8765"
    assert parse_node_address("http://[::1]:8765").host == "::1"
    with pytest.raises(NodeAddressError, match="in clear") as refused:
        parse_node_address("http://node.example.com:8765")
    assert refused.value.field == "scheme"
    assert "https://node.example.com:8765" in str(refused.value)
    assert "ssh://USER@node.example.com" in str(refused.value)


@pytest.mark.parametrize(
    ("text", "field", "hint"),
    [
        ("", "address", "ssh://root@node.example.com"),
        ("node.example.com", "scheme", "ssh://USER@node.example.com"),
        ("ftp://node.example.com", "scheme", "use ssh:// or https://"),
        ("ssh://node.example.com", "user", "ssh://root@node.example.com"),
        ("ssh://ro;ot@node.example.com", "user", "not allowed"),
        ("ssh://root@node.example.com/x", "path", "no path"),
        ("ssh://root@node.example.com:0", "port", "1 to 65535"),
        ("ssh://root@node.example.com:ssh", "port", "1 to 65535"),
        ("ssh://root@2001:db8::1", "host", "in brackets"),
        ("ssh://root@[2001:db8::1", "host", "closing ]"),
        ("ssh://root@[nope]:22", "host", "not an IPv6 address"),
        ("ssh://root@", "host", "missing"),
        ("https://user:pw@node.example.com", "user", "--token-stdin"),
        ("https://node.example.com/a/../b", "path", "plain prefix"),
        ("https://node.example.com/?x=1", "path", "base URL"),
        ("https://no de.example.com", "address", "space"),
    ],
)
def test_each_error_names_the_field_and_says_what_to_type(text: str, field: str, hint: str) -> None:
    with pytest.raises(NodeAddressError) as refused:
        parse_node_address(text)
    assert refused.value.field == field
    assert hint in str(refused.value)
    assert str(refused.value).startswith("invalid node address: ")
    assert str(refused.value).endswith("Nothing was saved.")


def test_the_api_port_is_for_ssh_addresses() -> None:
    with pytest.raises(NodeAddressError) as refused:
        parse_node_address("https://node.example.com", api_port=8765)
    assert refused.value.field == "api_port"
    assert str(refused.value).startswith("invalid --api-port: ")
    with pytest.raises(NodeAddressError, match="65535"):
        parse_node_address("ssh://root@node.example.com", api_port=70000)


def reparsed(address: NodeAddress) -> NodeAddress:
    return parse_node_address(address.text, address.api_port if address.is_ssh else None)


@given(st.text(max_size=80))
def test_any_text_gives_an_address_or_a_clear_error(text: str) -> None:
    try:
        address = parse_node_address(text)
    except NodeAddressError as exc:
        refused: NodeAddressError | None = exc
    else:
        refused = None
        assert reparsed(address) == address
    if refused is not None:
        assert isinstance(refused, InputError)
        assert refused.field in {"address", "scheme", "user", "host", "port", "path", "api_port"}
        assert str(refused).endswith("Nothing was saved.")


@given(
    st.sampled_from(["ssh://root@", "https://", "http://127.0.0.1", "ssh://a@[::1]"]),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
)
def test_garbage_after_a_scheme_never_crashes(start: str, rest: str) -> None:
    try:
        address = parse_node_address(start + rest)
    except NodeAddressError:
        return
    assert reparsed(address) == address
