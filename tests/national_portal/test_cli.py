"""``gateway portal lookup`` / ``procedure`` as an operator runs them, against the simulated portal."""

import json
import os
from pathlib import Path
import subprocess
import sys

from connectors.national_portal.client import ClassicClient

from .conftest import CREDENTIALS, Simulator, dossier_code, make_dossier


def run(simulator: Simulator, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "gateway.toml"
    config.write_text(f'[national_portal]\nadapter_url = "{simulator.url}"\nmadonvi = "000.00.00.H22"\n'
                      f'dstcode = "DVCQG-TEST"\n', encoding="utf-8")
    env = {**os.environ, "GATEWAY_CONFIG": str(config), "GATEWAY_PORTAL_USERNAME": CREDENTIALS["username"],
           "GATEWAY_PORTAL_PASSWORD": CREDENTIALS["password"]}
    return subprocess.run([Path(sys.executable).with_name("gateway"), "portal", *args], capture_output=True,
                          text=True, env=env, timeout=60)


def test_lookup_masks_personal_data(simulator: Simulator, client: ClassicClient, tmp_path: Path) -> None:
    code = dossier_code()
    assert client.sync_dossier(make_dossier(code).body, updating=False)[0].ok
    found = run(simulator, tmp_path, "lookup", code)
    assert found.returncode == 0, found.stderr
    dossier = json.loads(found.stdout)[0]
    assert dossier["MaHoSo"] == code and dossier["TenTTHC"].startswith("Cấp Giấy chứng nhận")
    assert dossier["SoGiayToChuHoSo"] == "0011****2345" and dossier["ChuHoSo"] == "N***** T** T** H****"
    assert dossier["DinhDanhCHS"][0]["SoDinhDanh"] == "0011****2345"
    for secret in ("001190012345", "Nguyễn Thị Thu Hương", "0912345678", "huong.nguyen@example.vn"):
        assert secret not in found.stdout
    missing = run(simulator, tmp_path, "lookup", dossier_code())
    assert missing.returncode == 1 and "no such dossier" in missing.stderr


def test_procedure_and_a_portal_down(simulator: Simulator, tmp_path: Path) -> None:
    found = run(simulator, tmp_path, "procedure", "1.001193")
    assert found.returncode == 0 and json.loads(found.stdout)[0]["TenTTHC"] == "Đăng ký khai sinh"
    simulator.faults(maintenance=True)
    down = run(simulator, tmp_path, "procedure", "1.001193")
    assert down.returncode == 2 and "HTTP 503" in down.stderr
