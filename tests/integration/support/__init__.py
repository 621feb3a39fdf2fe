"""Helpers that start real peers (sshd, D-Bus + gnome-keyring, TCP listeners) for tests."""
