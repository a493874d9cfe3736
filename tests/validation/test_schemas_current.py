"""The published schemas in schemas/ are exactly what the packet model generates."""

from collections.abc import Callable
import subprocess

from gateway.packets import schema_gen


def test_gateway_schemas_check_passes(run_cli: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    result = run_cli("schemas", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lỗi thời" not in result.stdout


def test_generated_schemas_match_the_files_byte_for_byte() -> None:
    generated = schema_gen.generated()
    assert {path.name for path in generated} == {"goitin.xsd", "goitin.schema.json"}
    for path, content in generated.items():
        assert path.read_bytes() == content, f"{path} is stale: run `gateway schemas`"
