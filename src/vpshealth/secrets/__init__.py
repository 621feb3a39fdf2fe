"""Secrets (SSH private keys, their passphrases, the SMTP password): kept in the OS keyring,
or on a headless node in a file sealed with a passphrase. The database holds references."""

from vpshealth.secrets.store import (
    NO_KEYRING_MESSAGE,
    SERVICE,
    SecretStore,
    new_key_ref,
    passphrase_ref,
)

__all__ = ["NO_KEYRING_MESSAGE", "SERVICE", "SecretStore", "new_key_ref", "passphrase_ref"]
