"""What every face does to hosts, keys and rules, in one place: neither CLI nor Qt."""
