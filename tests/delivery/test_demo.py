"""``gateway demo`` (what ``./run`` shows) runs the whole flow by itself and says what happened."""

import re
import subprocess
import sys


def test_demo_runs_the_whole_flow_and_reports_order_faults_and_replay():
    result = subprocess.run([sys.executable, "-c", "from gateway.cli import main; main()", "demo"],
                            capture_output=True, text=True, timeout=180)
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in out + result.stderr
    assert re.search(r"HoSo\.json\s+202", out) and "409" in out and "200 duplicate" in out
    assert "360 gói tin của 60 hồ sơ" in out and "60/60 hồ sơ đúng thứ tự" in out
    assert "Mạch ngắt / circuit: open" in out and "Mạch / circuit: closed" in out and "10/10 hồ sơ đúng thứ tự" in out
    assert "→ dead sau 1 lần" in out and "thử / dry run: 1" in out
    assert "after replay: delivered, 2 lần thử" in out and "dossier in order: có / yes" in out
    assert "demo-operator · replay" in out
