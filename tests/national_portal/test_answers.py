"""Answer classification on HTTP answers as the client reads them: every kind, configurable codes, messages
kept (masked)."""

import json

import pytest
from urllib3 import HTTPHeaderDict

from connectors.national_portal.answers import AnswerKind, classify, classify_error
from connectors.national_portal.settings import AnswerCodes
from gateway.deliver.http_client import HttpError, HttpTimeout, Reply

CODES = AnswerCodes()


def answer_of(status: int = 200, body: object = None, text: str | None = None, headers: dict[str, str] | None = None,
              codes: AnswerCodes = CODES, code_key: str = "error_code"):
    if text is not None:
        media, content = "text/plain; charset=utf-8", text.encode()
    else:
        media, content = "application/json", json.dumps(body, ensure_ascii=False).encode()
    response = Reply(status, HTTPHeaderDict({"Content-Type": media, **(headers or {})}), content)
    return classify(response, codes, code_key=code_key)


@pytest.mark.parametrize("code", [0, "0", "00"])
def test_three_spellings_of_success(code: object) -> None:
    answer = answer_of(body={"error_code": code, "message": "Thành công", "result": [{"MaHoSo": "X"}]})
    assert answer.kind is AnswerKind.OK and answer.ok
    assert answer.result == [{"MaHoSo": "X"}]


@pytest.mark.parametrize("code", [3, -3, "3", "-3"])
def test_already_exists(code: object) -> None:
    answer = answer_of(body={"error_code": code, "message": "Hồ sơ đã tồn tại"})
    assert answer.kind is AnswerKind.ALREADY_EXISTS
    assert answer.message == "Hồ sơ đã tồn tại"


def test_session_refusal_by_code_or_by_message() -> None:
    assert answer_of(body={"error_code": -1, "message": "x"}).kind is AnswerKind.RELOGIN
    assert answer_of(body={"error_code": 17, "message": "Session hết hạn"}).kind is AnswerKind.RELOGIN
    assert answer_of(body={"error_code": 17, "message": "Phiên làm việc đã hết hạn"}).kind is AnswerKind.RELOGIN
    # "phiên bản" (version) is not a session refusal
    assert answer_of(body={"error_code": 17, "message": "Sai phiên bản dữ liệu"}).kind is AnswerKind.PERMANENT
    assert answer_of(401, body={"message": "unauthorised"}).kind is AnswerKind.RELOGIN


def test_other_codes_are_permanent_with_the_portal_message_masked() -> None:
    answer = answer_of(body={"error_code": 7, "message": "Chủ hồ sơ 001190012345 sai định dạng"})
    assert answer.kind is AnswerKind.PERMANENT
    assert answer.code == "7" and answer.peer_status == "HTTP 200, error_code 7"
    assert "001190012345" not in answer.message and "0011****2345" in answer.message


def test_configured_transient_codes() -> None:
    codes = AnswerCodes(transient=frozenset({"7"}))
    assert answer_of(body={"error_code": 7, "message": "bận"}, codes=codes).kind is AnswerKind.TRANSIENT
    assert answer_of(body={"error_code": 8, "message": "sai"}, codes=codes).kind is AnswerKind.PERMANENT


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_server_errors_and_throttling_are_transient(status: int) -> None:
    answer = answer_of(status, text="busy", headers={"Retry-After": "7"})
    assert answer.kind is AnswerKind.TRANSIENT
    assert answer.retry_after == 7.0 and answer.http_status == status


def test_malformed_or_codeless_answers_are_transient() -> None:
    assert answer_of(text='{"error_code": 0, "mess').kind is AnswerKind.TRANSIENT
    assert answer_of(body=[1, 2]).kind is AnswerKind.TRANSIENT
    assert answer_of(body={"message": "ok?"}).kind is AnswerKind.TRANSIENT


def test_client_errors_are_permanent() -> None:
    assert answer_of(400, body={"error_code": 1, "message": "Dữ liệu không hợp lệ"}).kind is AnswerKind.PERMANENT
    assert answer_of(415, text="Unsupported Media Type").kind is AnswerKind.PERMANENT


def test_token_protocol_reads_code() -> None:
    assert answer_of(body={"code": "0", "message": "ok", "data": {"IdHoSo": "a"}}, code_key="code").data == {"IdHoSo": "a"}
    assert answer_of(body={"code": "3", "message": "đã tồn tại"}, code_key="code").kind is AnswerKind.ALREADY_EXISTS


def test_wire_failures_are_transient() -> None:
    assert classify_error(HttpTimeout("ReadTimeoutError", "slow")).kind is AnswerKind.TRANSIENT
    assert "timed out" in classify_error(HttpTimeout("ReadTimeoutError", "slow")).message
    assert classify_error(HttpError("NewConnectionError", "refused")).kind is AnswerKind.TRANSIENT


def test_only_the_message_is_kept_never_the_rest_of_the_answer() -> None:
    answer = answer_of(body={"error_code": 0, "message": "", "result": [{"ChuHoSo": "Nguyễn Thị Thu Hương"}]})
    assert answer.ok and answer.message == "" and "Nguyễn" not in answer.peer_status
    refused = answer_of(body={"error_code": 12, "data": {"ChuHoSo": "Nguyễn Thị Thu Hương"}})
    assert refused.kind is AnswerKind.PERMANENT and "Nguyễn" not in refused.message
