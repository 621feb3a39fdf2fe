"""Getting data off hosts: fixed remote commands, pure parsers, SSH and local collectors."""
