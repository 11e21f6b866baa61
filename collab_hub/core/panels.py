"""Pages built from panels that apps offer without the page's app importing them.

An app offers panels for a hook by having a module `<app>.<hook>` with `panels(*args)` returning
(template name, context) pairs. Apps are asked in INSTALLED_APPS order (the dependency order), so a
lower app's page can show what higher apps add without breaking the import direction.
"""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps


def collect(hook: str, *args) -> list[tuple[str, dict]]:
    result = []
    for config in apps.get_app_configs():
        name = f"{config.name}.{hook}"
        if find_spec(name) is not None:
            result.extend(import_module(name).panels(*args))
    return result
