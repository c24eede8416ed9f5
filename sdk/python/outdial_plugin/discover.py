"""Find the plugin class an author's module defines, for the build command
and the component's entry point alike."""

import inspect
from types import ModuleType
from typing import Dict, Type

KINDS = ("retry", "classifier", "provider")


def base_class(kind: str) -> type:
    """The SDK class a plugin of `kind` subclasses."""
    if kind == "retry":
        from .retry import RetryStrategy

        return RetryStrategy
    if kind == "classifier":
        from .classifier import Classifier

        return Classifier
    if kind == "provider":
        from .provider import ProviderAdapter

        return ProviderAdapter
    raise ValueError(f'unknown plugin kind "{kind}": expected one of {", ".join(KINDS)}')


def plugin_class(module: ModuleType, kind: str) -> Type:
    """The one class of `module` that subclasses the SDK base of `kind`, or
    the class its `PLUGIN` names when it defines several."""
    base = base_class(kind)
    where = getattr(module, "__file__", None) or module.__name__
    chosen = getattr(module, "PLUGIN", None)
    if chosen is not None:
        if not (inspect.isclass(chosen) and issubclass(chosen, base)):
            raise LookupError(f"{where}: PLUGIN is {chosen!r}, expected a subclass of {base.__module__}.{base.__name__}")
        found = chosen
    else:
        defined: Dict[str, type] = {
            name: value
            for name, value in vars(module).items()
            if inspect.isclass(value) and issubclass(value, base) and value is not base and value.__module__ == module.__name__
        }
        if not defined:
            raise LookupError(f"{where}: no class subclasses {base.__module__}.{base.__name__}, expected one (the plugin)")
        if len(defined) > 1:
            names = ", ".join(sorted(defined))
            raise LookupError(f"{where}: several classes subclass {base.__name__} ({names}); set PLUGIN = <the one to export>")
        found = next(iter(defined.values()))
    if not hasattr(found, "metadata"):
        raise LookupError(f"{where}: {found.__name__} has no `metadata`, expected `metadata = Metadata....(name, version)`")
    return found
