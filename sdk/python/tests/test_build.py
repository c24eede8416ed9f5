"""The build command's checks that run before componentize-py, the entry
module it generates, and that the committed bindings match sdk/wit/v0.2.0."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from outdial_plugin import build
from outdial_plugin.wit import default_wit_dir


def write(directory: Path, name: str, source: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def test_the_kind_is_found_from_the_module(tmp_path):
    module = write(
        tmp_path,
        "found_kind_plugin.py",
        """
        from outdial_plugin import Classifier, Metadata
        class Labels(Classifier):
            metadata = Metadata.classifier("labels", "0.1.0").labels(["busy"])
        """,
    )
    assert build.check_module(module, None) == ("found_kind_plugin", "classifier")


def test_a_module_without_a_plugin_is_refused_by_name(tmp_path):
    module = write(tmp_path, "no_plugin_here.py", "X = 1\n")
    with pytest.raises(SystemExit, match="no_plugin_here.py: no class subclasses"):
        build.check_module(module, "retry")


def test_metadata_of_another_kind_is_refused(tmp_path):
    module = write(
        tmp_path,
        "wrong_metadata_plugin.py",
        """
        from outdial_plugin import Metadata, RetryStrategy
        class Mislabelled(RetryStrategy):
            metadata = Metadata.classifier("mislabelled", "0.1.0")
        """,
    )
    with pytest.raises(SystemExit, match=r"metadata says disposition_classifier, expected Metadata.retry_strategy"):
        build.check_module(module, "retry")


def test_two_plugins_need_a_choice(tmp_path):
    module = write(
        tmp_path,
        "two_plugins.py",
        """
        from outdial_plugin import Metadata, RetryStrategy
        class A(RetryStrategy):
            metadata = Metadata.retry_strategy("a", "0.1.0")
        class B(RetryStrategy):
            metadata = Metadata.retry_strategy("b", "0.1.0")
        """,
    )
    with pytest.raises(SystemExit, match=r"several classes subclass RetryStrategy \(A, B\); set PLUGIN"):
        build.check_module(module, "retry")


def test_the_entry_module_exports_the_worlds_class():
    source = build.entry_source("my_plugin", "retry")
    assert "import my_plugin\n" in source
    assert "Retry = retry_export(plugin_class(my_plugin, 'retry'))" in source
    compile(source, "outdial_plugin_entry.py", "exec")


@pytest.mark.skipif(default_wit_dir() is None, reason="needs the outdial checkout's sdk/wit/v0.2.0")
def test_the_committed_bindings_match_the_wit():
    result = subprocess.run([sys.executable, "-m", "outdial_plugin.bindgen", "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_producers_section_names_the_language_as_the_binary_format_writes_it():
    section = build.producers_section({"language": [("Python", "")]})

    def text(s: str) -> bytes:
        return bytes([len(s)]) + s.encode()

    payload = text("producers") + b"\x01" + text("language") + b"\x01" + text("Python") + b"\x00"
    assert section == b"\x00" + bytes([len(payload)]) + payload


def test_a_long_sections_size_takes_several_leb128_bytes():
    section = build.producers_section({"processed-by": [("tool", "x" * 200)]})
    # 232 bytes of payload: 0xe8 0x01; the version's 200: 0xc8 0x01.
    assert section[:3] == b"\x00\xe8\x01"
    assert len(section) == 3 + 232
    assert section[-202:-200] == b"\xc8\x01"
