"""Which host names only this machine can reach. Read by the settings (development mode is for local
names only) and by `seed_demo` (demo accounts never on a reachable server); imports nothing of Django."""

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1", "testserver"})


def is_local_host(name: str) -> bool:
    name = name.strip().lower()
    return name in LOCAL_HOSTS or name == ".localhost" or name.endswith(".localhost")


def public_hosts(names) -> list[str]:
    """The names in `names` that other machines could reach (a wildcard `*` included)."""
    return [name for name in names if not is_local_host(name)]
