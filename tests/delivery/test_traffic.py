"""The generated traffic every delivery test, the demo and the benchmark use is valid and ordered."""

from gateway.config import Config
from gateway.deliver.traffic import Traffic
from gateway.validate.pipeline import Validator
from gateway.validate.semantic import MemoryHistory


def test_generated_dossiers_are_valid_in_both_encodings_and_one_consistent_history():
    validator = Validator(Config.load(), history=MemoryHistory())
    for encoding in ("json", "xml"):
        packets = Traffic(seed=1).dossier(3, steps=6, encoding=encoding)
        assert [p.packet_type for p in packets] == ["HoSo"] + ["TienDoXuLy"] * 6
        for packet in packets:
            report = validator.validate(packet.raw, encoding)
            assert report.valid, [e.to_dict() for e in report.errors]
            assert not report.warnings, [w.to_dict() for w in report.warnings]
            assert report.packet.dossier_code == packet.dossier and report.packet.MaGoiTin == packet.packet_id


def test_interleaving_keeps_each_dossier_in_order():
    mixed = list(Traffic(seed=2).interleaved(dossiers=20, steps=3))
    assert len(mixed) == 80 and len({p.packet_id for p in mixed}) == 80
    for dossier in {p.dossier for p in mixed}:
        assert [p.packet_type for p in mixed if p.dossier == dossier] == ["HoSo", "TienDoXuLy", "TienDoXuLy",
                                                                           "TienDoXuLy"]
    assert [p.packet_id for p in Traffic(seed=2).interleaved(dossiers=20, steps=3)] == [p.packet_id for p in mixed], \
        "a seed reproduces the same traffic"
