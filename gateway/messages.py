"""What the API and the CLI tell senders and operators when they refuse or report, Vietnamese and English side
by side: rule → (vi, en), with ``{fields}`` filled in by ``text``. The validation messages are in
``gateway.validate.messages``, the console's in ``gateway.console.catalogue``.

Rule codes are stable (senders may match on ``error``); the sentences may be reworded here, in one place.
"""

from collections.abc import Mapping
from typing import Any

MESSAGES: dict[str, tuple[str, str]] = {
    # --- the API: authentication and permissions (gateway.receive.auth, .ownership, .evidence)
    "auth.missing": ("Thiếu khoá truy cập (Authorization: Bearer … hoặc X-API-Key).",
                     "Missing credentials (Authorization: Bearer … or X-API-Key)."),
    "auth.invalid": ("Khoá truy cập không hợp lệ.", "Invalid credentials."),
    "auth.locked": ("Tạm khoá do xác thực sai nhiều lần; hãy thử lại sau.",
                    "Locked after repeated failed authentication; try again later."),
    "auth.agency": ("Hệ thống “{client}” không được gửi gói tin thay cho cơ quan {agency}.",
                    "Client “{client}” may not send packets for agency {agency}."),
    "auth.type": ("Hệ thống “{client}” không được gửi loại gói tin {packet_type}.",
                  "Client “{client}” may not send packets of type {packet_type}."),
    "auth.dossier": ("Hệ thống gửi không được phép thao tác trên hồ sơ {dossier}.",
                     "The sender may not act on dossier {dossier}."),
    "auth.evidence": ("Hệ thống “{client}” không được lấy gói bằng chứng.",
                      "Client “{client}” may not export evidence bundles."),
    "evidence.not_found": ("Không có hồ sơ {dossier}.", "No dossier {dossier}."),
    # --- the API's description (OpenAPI: "en — vi" by ``summary``)
    "api.title": ("Cổng kết nối", "Integration gateway"),
    "api.description": ("cổng kết nối hệ thống một cửa điện tử.", "QCVN 120 integration gateway"),
    "api.validate": ("kiểm tra gói tin, không lưu", "Validate a packet (stores nothing)"),
    "api.packets": ("gửi gói tin để chuyển tiếp", "Submit a packet for delivery"),
    "api.evidence": ("gói bằng chứng của hồ sơ", "A dossier's evidence bundle (zip)"),
    # --- the metrics endpoint (gateway.observe.metrics)
    "metrics.network": ("Mạng này không được đọc số liệu.", "This network may not read the metrics."),
    "metrics.token": ("Cần mã truy cập số liệu hợp lệ.", "A valid metrics bearer token is required."),
    # --- the intake's signature check (gateway.verify): a refusal's words, a receipt's notes
    "signature.not_yet": ("Chưa kiểm tra xong chữ ký số (chưa xác định được tình trạng chứng thư); hãy gửi lại sau.",
                          "The signature could not be checked yet (certificate status unknown); send again later."),
    "signature.required": ("Gói tin phải có chữ ký số hợp lệ của bên gửi.", "The packet must carry a valid signature."),
    "signature.policy": ("Chữ ký số của gói tin không đạt yêu cầu.", "The packet's signature does not meet the policy."),
    "signature.not_checked": ("Chưa kiểm tra chữ ký số.", "Signature not checked."),
    "signature.off": ("Không kiểm tra chữ ký số (signatures = off).", "Signatures are not checked (off)."),
    "signature.body_only": ("Chữ ký chỉ phủ phần NoiDung; phần bao (MaGoiTin, NoiGui, NoiNhan, ThoiGianGui) không được ký.",
                            "The signature covers NoiDung only; the envelope (MaGoiTin, NoiGui, NoiNhan, ThoiGianGui) "
                            "is not signed."),
    # --- the receipt (gateway.receipt.build): the answer's message, the receipt's note (GhiChu, Vietnamese)
    "receipt.accepted": ("Đã tiếp nhận và lưu gói tin; sẽ chuyển đến: {routes}",
                         "Packet accepted and stored; it will be delivered to: {routes}"),
    "receipt.duplicate": ("Gói tin này đã được tiếp nhận trước đó; không chuyển lại lần nữa.",
                          "This packet was already accepted; it will not be delivered again."),
    "receipt.note": ("Cổng kết nối đã tiếp nhận gói tin và xếp hàng chuyển đến: {routes}.",
                     "The gateway accepted the packet and queued it for: {routes}."),
    # --- the store: a purged dead letter's last_error ("en — vi" by ``summary``)
    "store.purged": ("đã xoá dữ liệu theo yêu cầu", "purged: payload deleted on request"),
    # --- the offline bundle verifier (gateway.evidence.check): a receipt's RFC 3161 timestamp token
    "evidence.receipt_tst": ("dấu thời gian {index}", "timestamp token {index}"),
    "evidence.receipt_tst_passed": ("dấu thời gian của biên nhận hợp lệ, chữ ký có từ {at}",
                                    "the receipt's timestamp holds: its signature existed at {at}"),
    "evidence.receipt_tst_unchecked": ("biên nhận có dấu thời gian, chưa kiểm tra (cần --tsa-trust)",
                                       "the receipt has a timestamp token, not checked (no --tsa-trust given)"),
    "evidence.receipt_tst_failed": ("dấu thời gian của biên nhận không hợp lệ: {why}",
                                    "the receipt's timestamp token does not hold: {why}"),
    # --- the API: the intake (gateway.receive.intake, .limits)
    "limit.too_many": ("Vượt quá giới hạn yêu cầu; hãy thử lại sau {seconds} giây.",
                        "Too many requests; try again in {seconds} s."),
    "route.none": ("Không có nơi nhận nào được cấu hình cho gói tin {packet_type} này.",
                   "No destination is configured for this {packet_type} packet."),
    "packet.conflict": ("Mã gói tin {packet_id} đã được dùng cho một nội dung khác; hãy tạo MaGoiTin mới.",
                        "Packet id {packet_id} was already used for other content; use a new MaGoiTin."),
    "store.unavailable": ("Chưa lưu được gói tin (kho dữ liệu tạm thời không sẵn sàng); hãy gửi lại sau.",
                          "The packet was not stored (the store is unavailable); send it again later."),
    # --- the audit chain's breaks and checkpoints (gateway.audit): `audit verify`, evidence bundles
    "audit.entry": ("mục {n}", "entry {n}"),
    "audit.truncated": ("nhật ký bị cắt: điểm chốt đã ký bao phủ đến mục {n}, nhật ký dừng ở mục {last}",
                        "the log was truncated: a signed checkpoint covers up to entry {n}, the log ends at {last}"),
    "audit.out_of_order": ("trùng số thứ tự hoặc sai thứ tự (mong đợi mục {n})",
                           "duplicated or out of order (entry {n} expected)"),
    "audit.deleted": ("đã bị xoá (mục tiếp theo là {next})", "deleted (the next entry present is {next})"),
    "audit.edited": ("nội dung đã bị sửa hoặc bị đổi chỗ (mã băm của mục không khớp)",
                     "its content was edited or moved (the entry's digest does not match)"),
    "audit.chain": ("chuỗi băm bị đứt (mục bị xoá, chèn hoặc đổi chỗ)",
                    "the hash chain breaks here (an entry was deleted, inserted or moved)"),
    "audit.rewritten": ("không khớp với điểm chốt đã ký (nhật ký bị viết lại)",
                        "does not match the signed checkpoint (the log was rewritten)"),
    "audit.beyond_head": ("có mục ngoài chuỗi (đầu chuỗi không ghi nhận)",
                          "entries beyond the chain's recorded head (written outside the chain)"),
    "audit.checkpoint_forged": ("điểm chốt bị giả mạo hoặc hỏng: {problem}", "the checkpoint is forged or damaged: {problem}"),
    "audit.checkpoint_untrusted": ("điểm chốt không do khoá tin cậy ký (người ký: {signer})",
                                   "the checkpoint is not signed by a trusted key (signer: {signer})"),
    "audit.checkpoint_unsigned": ("điểm chốt không do khoá tin cậy ký (người ký: không ký)",
                                  "the checkpoint is not signed by a trusted key (signer: unsigned)"),
    "audit.timestamp_fails": ("dấu thời gian không hợp lệ ({timestamp})", "its timestamp does not hold ({timestamp})"),
    "audit.signature_unreadable": ("chữ ký không đọc được", "unreadable signature"),
    "audit.signature_fails": ("chữ ký không đúng", "the signature does not verify"),
    "audit.not_as_signed": ("nội dung đã ký khác với điểm chốt", "what was signed differs from the checkpoint"),
    # --- delivery (gateway.deliver, gateway.kit): a job's error or hold reason, "vi / en" by ``line``
    "deliver.worker_name_empty": ("tên tiến trình chuyển tiếp trống", "the worker name is empty"),
    "deliver.worker_name_separator": ("tên tiến trình chuyển tiếp không được chứa {shown} (dấu phân cách mã nhận việc)",
                                      "a worker name must not contain {shown} (the claim token's separator)"),
    "deliver.paused": ("tạm dừng", "paused"),
    "deliver.maintenance_until": ("bảo trì đến", "maintenance until"),
    "deliver.connector_error": ("lỗi bộ kết nối", "connector error"),
    "deliver.attempts_exhausted": ("hết {n} lần thử", "{n} attempts"),
    "deliver.too_old": ("quá hạn {seconds} giây", "older than {seconds} s"),
    "deliver.url_unset": ("chưa đặt", "is not set: give the destination's address"),
    "answer.unreadable": ("câu trả lời không đọc được", "unreadable answer"),
    "answer.no_result": ("không có kết quả", "no result"),
    "answer.timeout": ("hết thời gian chờ", "timeout"),
    "answer.connection_error": ("lỗi kết nối", "connection error"),
    "kit.did_not_start": ("không khởi động được", "did not start"),
    # --- the CLI (gateway.cli): printed as "vi / en" by ``line``
    "cli.configuration": ("Cấu hình không dùng được", "unusable configuration: {error}"),
    "cli.no_destination": ("Không có đích", "no such destination: {names}"),
    "cli.name_with_processes": ("--name đặt tên cho một tiến trình", "--name names one process: not with --processes"),
    "cli.filter": ("Bộ lọc không hợp lệ", "invalid filter: {error}"),
    "cli.no_job": ("Không có việc", "no such job: {job}"),
    "cli.replay_confirm": ("Chạy lại với --yes để gửi", "run again with --yes to replay."),
    "cli.paused": ("Đã tạm dừng", "paused: {name} ({reason})"),
    "cli.resumed": ("Đã mở lại", "resumed: {name}"),
    # gateway/cli/db.py
    "help.db": ("Cơ sở dữ liệu: nâng cấp, sao lưu, khôi phục", "database: upgrade, backup, restore."),
    "cli.db.schema": ("Lược đồ", "schema: {before} → {after}"),
    "cli.db.backed_up": ("Đã sao lưu", "backed up {source} → {target} ({size} bytes, schema {revision})"),
    "cli.db.restored": ("Đã khôi phục", "restored {source} → {target} (schema {revision} → {now})"),
    "cli.db.purge_confirm": ("Xoá vĩnh viễn nội dung mọi gói tin của hồ sơ {dossier}?",
                             "Permanently delete every payload of dossier {dossier}?"),
    "cli.db.purged_dossier": ("Đã xoá nội dung {count} gói tin của hồ sơ {dossier}",
                              "purged {count} packets of dossier {dossier}"),
    "cli.db.purged_delivered": ("Đã xoá nội dung {count} gói tin đã chuyển xong quá {age}",
                                "purged {count} delivered packets older than {age}"),
    "cli.db.bad_key_id": ("Mã khoá không hợp lệ", "invalid key id: {error}"),
    "cli.db.key_unusable": ("Khoá không dùng được", "unusable store key: {error}"),
    "cli.db.rekey_failed": ("Không mã hoá lại được", "could not re-seal: {error}"),
    "cli.db.resealed": ("Đã mã hoá lại", "re-sealed"),
    "cli.db.payloads": ("gói tin", "payloads"),
    "cli.db.already_sealed": ("đã dùng khoá này", "already under this key"),
    # gateway/cli/clients.py
    "cli.unknown_types": ("Loại gói tin không có: {types}", "unknown packet types: {types}"),
    "cli.agency_required": ("Cần --agency (hoặc --agency '*' cho mọi cơ quan)", "--agency is required ('*' for every agency)"),
    "cli.client_exists": ("Đã có hệ thống {name}", "client {name} exists (rotate-key gives it a new key)"),
    "cli.no_client": ("Không có hệ thống {name}", "no client {name}"),
    "cli.short_password": ("Mật khẩu cần ít nhất 12 ký tự", "a password needs at least 12 characters"),
    # gateway/cli/db.py
    "cli.backup_sqlite_only": ("Sao lưu/khôi phục bằng lệnh này chỉ dành cho SQLite; với PostgreSQL dùng pg_dump/pg_restore",
                               "backup/restore here is for SQLite only; for PostgreSQL use pg_dump/pg_restore"),
    "cli.not_a_gateway_db": ("{path} không phải cơ sở dữ liệu của cổng kết nối ({error})",
                             "{path} is not a gateway database ({error})"),
    "cli.damaged_db": ("{path} bị hỏng: {verdict}", "{path} is damaged: {verdict}"),
    "cli.no_database": ("Không có cơ sở dữ liệu {path}", "no database at {path}"),
    "cli.file_exists": ("{path} đã tồn tại; thêm --force để ghi đè", "{path} exists; add --force to overwrite"),
    "cli.target_holds_data": ("{path} đang có dữ liệu; dừng cổng kết nối rồi thêm --force để ghi đè",
                              "{path} holds a database; stop the gateway, then add --force to overwrite it"),
    "cli.duration": ("Khoảng thời gian không hợp lệ: {text} (ví dụ 30d, 12h)", "invalid duration: {text} (e.g. 30d, 12h)"),
    "cli.purge_one_of": ("Chọn đúng một trong --dossier hoặc --delivered-older-than",
                         "give exactly one of --dossier or --delivered-older-than"),
    # gateway/cli/clients.py, operators.py: accounts and keys
    "cli.password_prompt": ("Mật khẩu", "password: "),
    "cli.key_shown_once": ("Khoá chỉ hiện MỘT lần, hãy chuyển ngay cho hệ thống gửi",
                           "the key is shown ONCE, hand it over now:"),
    "cli.client_suspended": ("Đã tạm dừng", "suspended: {name}"),
    "cli.client_resumed": ("Đã cho hoạt động lại", "resumed: {name}"),
    "cli.state_suspended": ("TẠM DỪNG", "suspended"),
    "cli.state_active": ("hoạt động", "active"),
    "cli.operator_created": ("Đã tạo", "created {username} ({role}; {agencies})"),
    "cli.one_time_password": ("Mật khẩu tạm (đổi ở lần đăng nhập đầu)",
                              "one-time password (change at first login): {password}"),
    "cli.invalid_month": ("Tháng không hợp lệ", "invalid month: {value} (YYYY-MM)"),
    # gateway/cli/schemas.py
    "cli.schema_stale": ("lỗi thời", "out of date: {path}"),
    "cli.schema_written": ("đã ghi", "wrote {path}"),
    # gateway/cli/lookups.py
    "cli.lookup_not_audited": ("Không ghi được nhật ký kiểm toán, không tra cứu",
                               "the look-up could not be audited, not run: {error}"),
    "cli.entry": ("mục", "entry {n}"),
    "cli.usage": ("Cách dùng", "usage: {usage}"),
    "cli.wrote": ("Đã ghi", "wrote {path}"),
    "cli.no_file": ("Không có tệp {path}", "no file {path}"),
    "cli.no_dossier": ("Không có hồ sơ {dossier}", "no dossier {dossier}"),
    # gateway/cli/verify.py: `gateway verify FILE`, `gateway sign FILE`
    "cli.verdict.passed": ("hợp lệ", "passed"),
    "cli.verdict.failed": ("không hợp lệ", "failed"),
    "cli.verdict.indeterminate": ("chưa xác định", "indeterminate"),
    "cli.trust_unusable": ("Cấu hình tin cậy không dùng được", "{error}"),
    "cli.verify.signature": ("chữ ký", "signature {number}"),
    "cli.verify.signer": ("người ký", "signer"),
    "cli.verify.issuer": ("bên cấp", "issuer"),
    "cli.verify.covers": ("phạm vi", "covers"),
    "cli.verify.signing_time": ("thời điểm ký", "signing time"),
    "cli.verify.algorithms": ("thuật toán", "algorithms"),
    "cli.verify.detail": ("chi tiết", "detail"),
    "cli.verify.note": ("ghi chú", "note"),
    "cli.verify.not_checked": ("chưa kiểm tra được", "not checked"),
    "cli.verify.trust": ("tin cậy", "trust {path}"),
    "cli.verify.anchors": ("điểm tin cậy", "anchor"),
    "cli.verify.intermediates": ("CA trung gian", "intermediate"),
    "cli.verify.crls": ("CRL của", "CRL from"),
    "cli.verify.at": ("Thời điểm --at không đúng định dạng ISO 8601", "--at {at} is not ISO 8601"),
    "cli.sign.forms": ("--cover là packet hoặc body, --jws là compact hoặc json",
                       "--cover is packet or body, --jws is compact or json"),
    "cli.sign.key_unusable": ("Không dùng được khóa ký", "{error}"),
    "cli.sign.failed": ("Không ký được tệp", "cannot sign {path}: {error}"),
    "cli.sign.signed": ("Đã ký", "signed: {path}"),
    "cli.done": ("Xong", "done"),
    "cli.yes": ("có", "yes: {detail}"),
    "cli.no": ("không", "no"),
    "help.gateway": ("Cổng kết nối — QCVN 120 integration gateway.", "Integration gateway for QCVN 120 packets."),
    "help.clients": ("Khoá API và tài khoản", "API keys and classic accounts."),
    "help.operators": ("Tài khoản bảng điều khiển", "console operator accounts."),
    "help.report": ("Báo cáo định kỳ", "periodic reports."),
    # gateway/cli/destinations.py
    "help.destinations": ("Trạng thái đích, tạm dừng", "destinations: status, pause, resume."),
    "cli.destinations.title": ("Đích", "destinations"),
    "cli.destinations.paused": ("tạm dừng", "paused"),
    "cli.destinations.circuit": ("mạch", "circuit"),
    "cli.destinations.maintenance_until": ("bảo trì đến", "maintenance until"),
    # gateway/cli/validate.py: `gateway validate FILE…`
    "cli.validate.valid": ("hợp lệ", "valid"),
    "cli.validate.errors": ("lỗi", "errors"),
    "cli.validate.error": ("lỗi", "error"),
    "cli.validate.warning": ("cảnh báo", "warning"),
    "cli.validate.line": ("dòng", "line {n}"),
    "cli.validate.validating": ("Đang kiểm tra", "validating"),
    # gateway/cli/jobs.py
    "help.jobs": ("Việc chuyển tiếp, thư chết, gửi lại", "delivery jobs, dead letters, replay."),
    "cli.jobs.jobs": ("việc", "jobs"),
    "cli.jobs.local_time": ("giờ Việt Nam", "local time"),
    "cli.jobs.destination": ("đích", "destination"),
    "cli.jobs.dossier": ("hồ sơ", "dossier"),
    "cli.jobs.type": ("loại", "type"),
    "cli.jobs.state": ("trạng thái", "state"),
    "cli.jobs.tries": ("lần", "tries"),
    "cli.jobs.last_error": ("lỗi cuối", "last error"),
    "cli.jobs.attempts": ("Các lần thử", "attempts"),
    "cli.jobs.at": ("lúc", "at"),
    "cli.jobs.outcome": ("kết quả", "outcome"),
    "cli.jobs.peer": ("đích trả lời", "peer"),
    "cli.jobs.message": ("thông điệp", "message"),
    "cli.jobs.transform": ("chuyển đổi", "transform"),
    "cli.jobs.would_replay": ("Sẽ gửi lại", "would replay: {count}"),
    "cli.jobs.replayed": ("đã gửi lại", "replayed {done}/{count}"),
    "cli.jobs.queued_again": ("việc được đưa lại hàng đợi", "jobs queued again (by {who}: {reason})"),
    # gateway/cli/audit.py
    "help.audit": ("Nhật ký kiểm toán chống sửa đổi", "tamper-evident audit log."),
    "cli.audit.certificate_unreadable": ("Không đọc được chứng thư {path}", "cannot read certificate {path}"),
    "cli.audit.tsa_trust_unreadable": ("Không đọc được tin cậy TSA {path}", "cannot read the TSA trust {path}"),
    "cli.audit.timestamps": ("dấu thời gian", "timestamps"),
    "cli.audit.timestamps_hold": ("hợp lệ", "hold"),
    "cli.audit.existed_at": ("có từ", "existed at {at}"),
    "cli.audit.timestamps_unchecked": ("chưa kiểm tra (cần --tsa-trust)", "not checked (no --tsa-trust)"),
    "cli.audit.timestamps_absent": ("không có", "absent"),
    "cli.audit.entries": ("mục", "entries"),
    "cli.audit.checkpoints": ("điểm chốt", "checkpoints"),
    "cli.audit.signed": ("đã ký", "signed"),
    "cli.audit.unsigned": ("không ký", "unsigned"),
    "cli.audit.unsigned_no_key": ("không ký: chưa cấu hình khoá", "unsigned: no [signing] key"),
    "cli.audit.timestamped": ("có dấu thời gian", "timestamped"),
    "cli.audit.signed_up_to": ("đã ký đến mục", "signed up to entry {n}"),
    "cli.audit.none_signed": ("Chưa có điểm chốt được ký: chuỗi chỉ chứng minh tính nhất quán",
                              "no signed checkpoint: the chain shows consistency only, not who wrote it"),
    "cli.audit.intact": ("nguyên vẹn", "intact"),
    "cli.audit.empty": ("Nhật ký trống", "the log is empty"),
    "cli.audit.checkpoint": ("Điểm chốt", "checkpoint"),
    "cli.evidence.checkpoint": ("điểm chốt", "checkpoint"),
    "cli.evidence.packets": ("gói tin", "packets"),
    "cli.evidence.jobs": ("việc chuyển", "jobs"),
    "cli.evidence.entries": ("mục nhật ký", "audit entries"),
    "cli.evidence.intact": ("gói bằng chứng của hồ sơ {dossier} nguyên vẹn",
                            "the evidence bundle of dossier {dossier} is intact"),
    # gateway/evidence/check.py: `gateway evidence verify FILE`, a problem (place: vi / en) or a note ("vi / en")
    "cli.bundle.not_zip": ("không phải tệp zip đọc được ({error})", "not a readable zip file ({error})"),
    "cli.bundle.too_many": ("quá nhiều tệp", "too many members ({count})"),
    "cli.bundle.too_large": ("tệp quá lớn", "member too large"),
    "cli.bundle.twice": ("tên tệp bị lặp trong zip", "the name appears twice in the zip"),
    "cli.bundle.damaged": ("tệp bị hỏng hoặc bị sửa ({error})", "damaged or altered ({error})"),
    "cli.bundle.missing": ("thiếu tệp", "missing"),
    "cli.bundle.not_json": ("không đọc được JSON ({error})", "not readable JSON ({error})"),
    "cli.bundle.unreadable": ("không đọc được ({error})", "not readable ({error})"),
    "cli.bundle.not_manifest": ("không phải bản kê của gói bằng chứng", "not an evidence bundle manifest"),
    "cli.bundle.listed_missing": ("thiếu tệp có trong bản kê", "listed in the manifest but missing"),
    "cli.bundle.altered": ("nội dung khác với mã băm trong bản kê (đã bị sửa)",
                           "content differs from the manifest's SHA-256 (altered)"),
    "cli.bundle.added": ("tệp không có trong bản kê (bị thêm vào)", "not listed in the manifest (added)"),
    "cli.bundle.manifest_unsigned": ("bản kê không được ký (cổng chưa cấu hình khoá ký)",
                                     "the manifest is unsigned (no signing key was configured): hashes prove "
                                     "consistency, not origin"),
    "cli.bundle.signature_missing": ("thiếu chữ ký của bản kê", "the manifest's signature is missing"),
    "cli.bundle.not_as_signed": ("khác với bản kê đã ký", "differs from the signed manifest"),
    "cli.bundle.signer_untrusted": ("người ký không được tin cậy: {signer}", "signer not trusted: {signer}"),
    "cli.bundle.signer_unchecked": ("chữ ký đúng, người ký {signer}; chưa đối chiếu chứng thư tin cậy (--cert)",
                                    "signature holds, signer {signer}; no trusted certificate given (--cert)"),
    "cli.bundle.checkpoint_unsigned": ("điểm chốt không được ký", "the checkpoint is unsigned"),
    "cli.bundle.timestamp_holds": ("dấu thời gian của điểm chốt hợp lệ, điểm chốt có từ",
                                   "the checkpoint's timestamp holds, it existed at: {at}"),
    "cli.bundle.timestamp_unchecked": ("điểm chốt có dấu thời gian, chưa kiểm tra (--tsa-trust)",
                                       "the checkpoint has a timestamp, not checked (no --tsa-trust given)"),
    "cli.bundle.beyond_checkpoint": ("có mục sau điểm chốt", "entries beyond the checkpoint (entry {n})"),
    "cli.bundle.entry_withheld": ("thiếu nội dung mục của hồ sơ", "the dossier's entry is missing or withheld"),
    "cli.bundle.receipt_unsigned": ("biên nhận không ký", "unsigned receipt ({origin})"),
    "cli.bundle.receipt_unchecked": ("không kiểm tra được chữ ký biên nhận ({error})",
                                     "the receipt's signature could not be checked ({error})"),
    "cli.bundle.receipt_fails": ("chữ ký biên nhận không đúng ({reason})", "the receipt's signature fails ({reason})"),
    "cli.bundle.receipt_holds": ("chữ ký biên nhận hợp lệ", "the receipt's signature holds ({origin})"),
    "cli.bundle.receipt_signer_unconfirmed": ("chữ ký biên nhận nguyên vẹn, chưa xác nhận người ký",
                                              "the receipt's signer not confirmed ({reason}) ({origin})"),
    "cli.bundle.no_acceptance": ("không có mục tiếp nhận trong nhật ký (tiếp nhận trước khi có chuỗi kiểm toán)",
                                 "no acceptance entry (accepted before the audit chain existed)"),
    "cli.bundle.packet_not_logged": ("mã băm không khớp với nhật ký kiểm toán (hoặc thiếu mục tiếp nhận)",
                                     "its SHA-256 does not match the audit log's (or its acceptance entry is missing)"),
    "cli.bundle.raw_differs": ("khác với gói tin đã tiếp nhận (mã băm)", "differs from the packet accepted (SHA-256)"),
    "cli.bundle.receipt_other_hash": ("biên nhận không nói đúng mã băm của gói tin", "the receipt names another SHA-256"),
    # logs (gateway/cli/worker.py, gateway/api.py): "vi / en" by ``line``
    "log.destination_not_delivered": ("Đích không chuyển tiếp được",
                                      "destination {name} not delivered: {error}"),
    "log.locked": ("tạm khoá", "locked"),
    "log.locked_shared": ("tạm khoá (chung)", "locked (shared)"),
    "log.client_hung_up": ("máy khách ngắt kết nối giữa chừng", "client hung up during {method} {path}"),
}


def add_messages(messages: Mapping[str, tuple[str, str]]) -> None:
    """Join a connector's own sentences (its folder's ``messages.py``, rules prefixed with its name) to the
    catalogue, so ``text``/``refusal``/``line`` find them; a rule defined twice with other words is an error."""
    for rule, pair in messages.items():
        if MESSAGES.setdefault(rule, pair) != pair:
            raise ValueError(f"message rule {rule!r} defined twice")


def summary(rule: str, **fields: Any) -> str:
    """English — Vietnamese, for the API's own description (OpenAPI titles) and stored markers."""
    vi, en = text(rule, **fields)
    return f"{en} — {vi}"


def text(rule: str, **fields: Any) -> tuple[str, str]:
    """(vi, en) of ``rule`` with its fields filled in."""
    vi, en = MESSAGES[rule]
    return vi.format(**fields), en.format(**fields)


def refusal(rule: str, **fields: Any) -> dict[str, str]:
    """The API's refusal body: ``{"error": rule, "message_vi": …, "message_en": …}``."""
    vi, en = text(rule, **fields)
    return {"error": rule, "message_vi": vi, "message_en": en}


def line(rule: str, **fields: Any) -> str:
    """One line for the terminal: "vi / en"."""
    return " / ".join(text(rule, **fields))
