"""Where the WIT contract is and which of its worlds each plugin kind builds
against. `sdk/wit` is the single source of truth: the build and the
bindings are both made from it, by path. This SDK speaks the released
0.2.0 contract, kept unchanged in `sdk/wit/v0.2.0`; the host loads its
plugins beside those of newer versions."""

import sys
from pathlib import Path
from typing import List, Optional

#: The WIT package the bindings in `outdial_wit` were generated from.
WIT_PACKAGE = "outdial:plugin@0.2.0"

#: The world each plugin kind exports, and the class componentize-py looks
#: for in the entry module.
WORLDS = {
    "retry": ("outdial:plugin/retry-strategy@0.2.0", "Retry", "retry_export"),
    "classifier": ("outdial:plugin/disposition-classifier@0.2.0", "Classifier", "classifier_export"),
    "provider": ("outdial:plugin/provider-adapter@0.2.0", "Provider", "provider_export"),
}

#: The Python module componentize-py generates the bindings as, natively
#: (the committed stubs) and inside a component (the real ones) alike.
WORLD_MODULE = "outdial_wit"

#: The SDK's own directory (`sdk/python` in the outdial repository), which
#: holds `outdial_plugin`, the `outdial_wit` stubs and `componentize_py_types`.
SDK_ROOT = Path(__file__).resolve().parent.parent


def default_wit_dir() -> Optional[Path]:
    """`sdk/wit/v0.2.0` beside the SDK when it is used from an outdial
    checkout (an editable install); None for a copy installed elsewhere."""
    candidate = SDK_ROOT.parent / "wit" / "v0.2.0"
    return candidate if (candidate / "plugin.wit").is_file() else None


def resolve_wit_dir(given: Optional[str]) -> Path:
    """The WIT directory to build against: `given`, or the checkout's
    `sdk/wit`; a `SystemExit` naming what is missing otherwise."""
    wit_dir = Path(given) if given else default_wit_dir()
    if wit_dir is None:
        raise SystemExit(
            f"cannot find the WIT contract: no sdk/wit beside {SDK_ROOT}; pass --wit DIR "
            "(the sdk/wit/v0.2.0 directory of the outdial repository)"
        )
    plugin_wit = wit_dir / "plugin.wit"
    if not plugin_wit.is_file():
        raise SystemExit(f"{wit_dir}: no plugin.wit here, expected the sdk/wit/v0.2.0 directory of the outdial repository")
    if f"package {WIT_PACKAGE};" not in plugin_wit.read_text(encoding="utf-8"):
        raise SystemExit(f"{plugin_wit}: does not declare package {WIT_PACKAGE}, which this SDK's bindings speak")
    return wit_dir


def componentize_py_command() -> List[str]:
    """componentize-py, run by the interpreter running this SDK, so the
    venv's pinned copy is used whatever PATH says."""
    return [sys.executable, "-c", "import sys; from componentize_py import script; sys.exit(script())"]
