"""Keeping a desktop in sync with an always-on VPS Health node: the connection to it (an SSH
tunnel or https), the local copy of what it records, and the catch-up after a sleep. Below
the faces: the operations call it, and app.py wires it."""
