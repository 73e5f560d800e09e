"""The identity vault end to end: sealed at filing, opened by reward officers only, audited,
bound to its filing, rotated between keys, and the reporter texted through sealed messages."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, select
from typer.testing import CliRunner

from accounts.service import Staff
from core.db import get_engine
from core.errors import InvalidInput
from core.timeutil import day_start
from rewards import follow_up, vault
from rewards.keys import keyring
from rewards.sealing import KeyRing, SealError
from schemas import Complaint, ComplaintEvent
from schemas.casework import AuditEntry
from schemas.enums import Role
from schemas.reporter import ReporterIdentityIn
from schemas.reward import ReporterIdentity
from schemas.sms import SmsOutbound
from schemas.staff import StaffUser
from service.cli import app as cli_app
from tests.conftest import Templates, copy_of_template, migrated_platform
from tests.helpers import add_staff, bearer, run_worker_until_idle, valid_filing

NAME = "李举报"
PHONE = "13900007777"
ID_NUMBER = "11010519491231002X"
BANK = "中国工商银行太原分行"
ACCOUNT = "6222020200112233445"
REPORTER = {
    "name": NAME,
    "phone": PHONE,
    "id_number": ID_NUMBER,
    "bank_name": BANK,
    "bank_account": ACCOUNT,
}
TIP_TEXT = "举报某某厂生产的电动车充电器没有3C认证，存在起火隐患，请依法查处。"
REDACTED = "［已隐去］"
REASON = "核对领奖人身份以发放奖励"
STAFF = {
    "ro": (Role.reward_officer, None),
    "zj": (Role.department, "quality"),
    "boss": (Role.supervisor, None),
    "root": (Role.admin, None),
    "op": (Role.operator, None),
}


# --- helpers shared with tests/cases/test_retention.py --------------------------------------


def file_tip(
    client: TestClient,
    *,
    reporter: dict[str, str] | None = None,
    text: str = TIP_TEXT,
    attachments: list[str] | None = None,
) -> tuple[int, str]:
    """A web tip-off; returns its id and the one-time receipt code."""
    body = valid_filing(kind="tip", text=text, business_name="太原市某某电器厂")
    del body["contact_phone"]
    if reporter is not None:
        body["reporter"] = reporter
    if attachments:
        body["attachments"] = attachments
    answer = client.post("/api/v1/complaints", json=body)
    assert answer.status_code == 201, answer.text
    return complaint_id(answer.json()["tracking_number"]), str(answer.json()["receipt_code"])


def complaint_id(tracking_number: str) -> int:
    with Session(get_engine(read_only=True)) as session:
        found = session.exec(
            select(Complaint.id).where(Complaint.tracking_number == tracking_number)
        ).one()
    assert found is not None
    return found


def identity_row(cid: int) -> ReporterIdentity:
    with Session(get_engine(read_only=True)) as session:
        return session.exec(
            select(ReporterIdentity).where(ReporterIdentity.complaint_id == cid)
        ).one()


def staff(username: str) -> Staff:
    with Session(get_engine(read_only=True)) as session:
        user = session.exec(select(StaffUser).where(StaffUser.username == username)).one()
    assert user.id is not None
    return Staff(user.id, user.username, user.role, user.department_id, None)


def read_directly(cid: int, username: str = "ro") -> Any:
    with Session(get_engine(), expire_on_commit=False) as session:
        return vault.read(session, staff=staff(username), complaint_id=cid, reason=REASON)


def audits(action: str) -> list[AuditEntry]:
    with Session(get_engine(read_only=True)) as session:
        return list(
            session.exec(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)  # type: ignore[arg-type]
            ).all()
        )


def _open_vault(client: TestClient, cid: int, headers: dict[str, str], **body: Any) -> Any:
    return client.post(f"/api/v1/vault/tipoffs/{cid}/identity", json=body, headers=headers)


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def desk(platform: str, client: TestClient, session: Session) -> dict[str, dict[str, str]]:
    for username, (role, department) in STAFF.items():
        add_staff(session, username, role, department)
    return {username: bearer(client, username) for username in STAFF}


@pytest.fixture
def sqlite_desk(
    sqlite_platform: str, client: TestClient, session: Session
) -> dict[str, dict[str, str]]:
    for username, (role, department) in STAFF.items():
        add_staff(session, username, role, department)
    return {username: bearer(client, username) for username in STAFF}


# --- 1. sealed at filing -----------------------------------------------------------------------


def test_a_named_tip_off_keeps_the_identity_only_sealed(
    desk: dict[str, dict[str, str]], client: TestClient, session: Session
) -> None:
    text = (
        f"我是{NAME}，电话{PHONE}（也可打139 0000 7777），身份证{ID_NUMBER.lower()}。"
        "举报某某厂生产的电动车充电器没有3C认证，存在起火隐患。"
    )
    cid, code = file_tip(client, reporter=REPORTER, text=text)
    assert len(code) == 24
    row = identity_row(cid)
    assert row.key_id == keyring().active
    assert len(row.nonce) == 12
    for value in (NAME, PHONE, "+86" + PHONE, ID_NUMBER, ACCOUNT, BANK):
        assert value.encode() not in row.ciphertext, value
        assert value.encode("utf-16-le") not in row.ciphertext, value
    complaint = session.get(Complaint, cid)
    assert complaint is not None
    assert complaint.contact_phone is None
    for value in (NAME, PHONE, "139 0000 7777", ID_NUMBER, ID_NUMBER.lower()):
        assert value not in complaint.text, value
    assert complaint.text.startswith(f"我是{REDACTED}，电话{REDACTED}（也可打{REDACTED}）")
    assert f"身份证{REDACTED}。" in complaint.text
    assert "3C认证" in complaint.text  # the rest of the text is untouched
    # The contact number given as contact_phone (not in `reporter`) goes to the vault too.
    body = valid_filing(kind="tip", text=TIP_TEXT + f"联系电话{PHONE}", contact_phone=PHONE)
    answer = client.post("/api/v1/complaints", json=body)
    assert answer.status_code == 201, answer.text
    other = session.get(Complaint, complaint_id(answer.json()["tracking_number"]))
    assert other is not None
    assert other.id is not None
    assert other.contact_phone is None
    assert PHONE not in other.text
    assert PHONE.encode() not in identity_row(other.id).ciphertext
    shown = client.post(
        f"/api/v1/vault/tipoffs/{other.id}/identity", json={"reason": REASON}, headers=desk["ro"]
    ).json()
    assert shown["phone_masked"] == "139****7777"
    # Nothing in the history, the staff view or the audit trail names the reporter.
    events = session.exec(select(ComplaintEvent).where(ComplaintEvent.complaint_id == cid)).all()
    view = client.get(f"/api/v1/complaints/{cid}", headers=desk["boss"]).text
    for value in (NAME, PHONE, ID_NUMBER, ACCOUNT):
        assert value not in str([e.model_dump() for e in events]), value
        assert value not in view, value


def test_a_tip_off_with_two_different_numbers_is_refused_and_nothing_is_stored(
    desk: dict[str, dict[str, str]], client: TestClient, session: Session
) -> None:
    # The vault seals one number: keeping reporter.phone would leave contact_phone unsealed
    # in the text, and dropping it would lose how to reach the reporter.
    other = "13912345678"
    body = valid_filing(kind="tip", text=TIP_TEXT + f"核实请打我手机{other}", contact_phone=other)
    body["reporter"] = {"name": NAME, "phone": PHONE}
    answer = client.post("/api/v1/complaints", json=body)
    assert answer.status_code == 422, answer.text
    assert "contact_phone" in answer.json()["detail"]
    assert session.exec(select(Complaint)).all() == []
    assert session.exec(select(ReporterIdentity)).all() == []
    # The same number given twice is one number.
    body = valid_filing(kind="tip", text=TIP_TEXT + f"核实请打我手机{PHONE}", contact_phone=PHONE)
    body["reporter"] = {"name": NAME, "phone": PHONE}
    answer = client.post("/api/v1/complaints", json=body)
    assert answer.status_code == 201, answer.text
    assert PHONE not in session.exec(select(Complaint)).one().text


FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.usefixtures("sqlite_platform")
@pytest.mark.parametrize(
    ("contact_phone", "in_text"),
    [
        ("13812345678", "１３８１２３４５６７８"),
        ("0351-7654321", "0351-7654321"),
        (None, "１１０１０５１９９００１０１１２３２"),  # a valid resident ID number, full-width
    ],
    ids=["full-width-mobile", "landline", "full-width-id-number"],
)
def test_a_tip_offs_text_keeps_none_of_the_reporters_numbers(
    client: TestClient, session: Session, contact_phone: str | None, in_text: str
) -> None:
    body = valid_filing(
        kind="tip",
        contact_phone=contact_phone,
        text=f"某某超市销售过期食品，我是该店店员，联系我：{in_text}，请查处。",
    )
    assert client.post("/api/v1/complaints", json=body).status_code == 201
    stored = session.exec(select(Complaint)).one().text
    assert stored == f"某某超市销售过期食品，我是该店店员，联系我：{REDACTED}，请查处。"


@pytest.mark.parametrize(
    "written",
    [
        "１３９００００７７７７",
        "139 0000 7777",
        "139-0000-7777",
        "+86 139 0000 7777",
        "8613900007777",
        ID_NUMBER.lower(),
        ID_NUMBER[:-1].translate(FULL_WIDTH) + "ｘ",
        "110105 19491231 002X",
        "6222 0202 0011 2233 445",
        ACCOUNT.translate(FULL_WIDTH),
    ],
)
def test_the_reporters_numbers_go_however_they_are_written(written: str) -> None:
    identity = ReporterIdentityIn(**REPORTER)
    assert vault.scrub(f"请联系{written}。", identity) == f"请联系{REDACTED}。"


@pytest.mark.parametrize(
    "written",
    [
        "0351-7654321",
        "03517654321",
        "0351 7654321",
        "（0351）7654321",
        "+86 351 7654321",
        "3517654321",
    ],
)
def test_a_landline_goes_with_or_without_its_trunk_zero_and_separators(written: str) -> None:
    identity = ReporterIdentityIn(phone="0351-7654321")
    scrubbed = vault.scrub(f"电话{written}，白天打", identity)
    assert "7654321" not in scrubbed
    assert scrubbed.endswith(f"{REDACTED}，白天打")


def test_other_numbers_and_the_rest_of_the_text_stay() -> None:
    identity = ReporterIdentityIn(phone="13900007777")
    text = "店里电话１３９００００７７７８，发票号0351765，共１２瓶"
    assert vault.scrub(text, identity) == text


# --- 2. reading over HTTP ----------------------------------------------------------------------


def test_a_reward_officer_reads_the_identity_with_a_reason_and_it_is_audited(
    desk: dict[str, dict[str, str]], client: TestClient
) -> None:
    cid, _ = file_tip(client, reporter=REPORTER)
    answer = _open_vault(client, cid, desk["ro"], reason=f"  {REASON}  ")
    assert answer.status_code == 200, answer.text
    shown = answer.json()
    assert shown == {
        "complaint_id": cid,
        "name": NAME,
        "phone_masked": "139****7777",
        "id_number_masked": "110***********002X",
        "bank_name": BANK,
        "bank_account": ACCOUNT,
        "updated_on": shown["updated_on"],
    }
    [entry] = audits("vault.read")
    assert (entry.username, entry.complaint_id, entry.detail["reason"]) == ("ro", cid, REASON)
    assert entry.detail["found"] is True
    assert PHONE not in json.dumps(entry.detail, ensure_ascii=False)


def test_no_reason_or_a_short_one_is_refused_and_not_read(
    desk: dict[str, dict[str, str]], client: TestClient
) -> None:
    cid, _ = file_tip(client, reporter=REPORTER)
    for body in ({}, {"reason": "核对"}, {"reason": "   核对   "}, {"reason": ""}):
        answer = _open_vault(client, cid, desk["ro"], **body)
        assert answer.status_code == 422, (body, answer.text)
        assert NAME not in answer.text
    assert _open_vault(client, cid, {}, reason=REASON).status_code == 401
    assert audits("vault.read") == []
    # Called directly, past the request schema, the vault checks the reason itself.
    from core.errors import InvalidInput

    with (
        Session(get_engine()) as session,
        pytest.raises(InvalidInput, match="at least 4 characters"),
    ):
        vault.read(session, staff=staff("ro"), complaint_id=cid, reason=" 核对 ")
    assert audits("vault.read") == []


def test_a_reason_the_schema_accepts_the_vault_accepts(
    desk: dict[str, dict[str, str]], client: TestClient
) -> None:
    """The schema and the vault trim the same whitespace (found by schemathesis: U+001F, which
    str.strip() takes and pydantic keeps, was a 422 for a request the schema called valid;
    control characters are now refused by the schema itself, and nothing is read)."""
    cid, _ = file_tip(client, reporter=REPORTER)
    answer = _open_vault(client, cid, desk["ro"], reason="\u3000核对\x1f\x1f\u2008")
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "reason"
    assert audits("vault.read") == []
    answer = _open_vault(client, cid, desk["ro"], reason="\u3000核对身份\u2008\u2029")
    assert answer.status_code == 200, answer.text
    assert len(audits("vault.read")) == 1


def test_every_other_role_is_refused_and_each_attempt_is_audited(
    desk: dict[str, dict[str, str]], client: TestClient
) -> None:
    cid, _ = file_tip(client, reporter=REPORTER)
    others = ["zj", "boss", "root", "op"]
    for username in others:
        answer = _open_vault(client, cid, desk[username], reason=REASON)
        assert answer.status_code == 403, (username, answer.text)
        assert NAME not in answer.text
        assert "139" not in answer.text
    refused = audits("vault.refused")
    assert [(e.username, e.detail["tip_off"]) for e in refused] == [(u, cid) for u in others]
    assert [e.detail["role"] for e in refused] == ["department", "supervisor", "admin", "operator"]
    assert audits("vault.read") == []


def test_an_anonymous_tip_off_is_404_but_audited_and_a_complaint_is_no_tip_off(
    desk: dict[str, dict[str, str]], client: TestClient
) -> None:
    anonymous, _ = file_tip(client)
    answer = _open_vault(client, anonymous, desk["ro"], reason=REASON)
    assert answer.status_code == 404
    assert "anonymously" in answer.json()["detail"]
    [entry] = audits("vault.read")
    assert (entry.complaint_id, entry.detail) == (anonymous, {"reason": REASON, "found": False})
    filed = client.post("/api/v1/complaints", json=valid_filing())
    complaint = complaint_id(filed.json()["tracking_number"])
    for target in (complaint, 10**6):
        answer = _open_vault(client, target, desk["ro"], reason=REASON)
        assert answer.status_code == 404, answer.text
        assert answer.json()["detail"] == "no tip-off with this id"
    assert len(audits("vault.read")) == 1


# --- 3. bound to the filing --------------------------------------------------------------------


def _write(statement: Any) -> None:
    with Session(get_engine()) as session:
        session.execute(statement)
        session.commit()


def test_a_sealed_identity_copied_onto_another_tip_off_or_altered_does_not_open(
    desk: dict[str, dict[str, str]], client: TestClient
) -> None:
    first, _ = file_tip(client, reporter=REPORTER)
    second, _ = file_tip(client, reporter={"name": "赵某某", "phone": "13700001111"})
    source = identity_row(first)
    _write(
        update(ReporterIdentity)
        .where(ReporterIdentity.complaint_id == second)  # type: ignore[arg-type]
        .values(key_id=source.key_id, nonce=source.nonce, ciphertext=source.ciphertext)
    )
    with pytest.raises(SealError, match="altered or belongs to another record"):
        read_directly(second)
    answer = _open_vault(client, second, desk["ro"], reason=REASON)
    assert answer.status_code == 422
    assert answer.json()["detail"] == "the sealed value was altered or belongs to another record"
    assert NAME not in answer.text
    assert "139" not in answer.text
    # The original still opens; one flipped byte of it does not.
    assert read_directly(first).name == NAME
    for position in (0, len(source.ciphertext) // 2, len(source.ciphertext) - 1):
        tampered = bytearray(source.ciphertext)
        tampered[position] ^= 0x01
        _write(
            update(ReporterIdentity)
            .where(ReporterIdentity.complaint_id == first)  # type: ignore[arg-type]
            .values(ciphertext=bytes(tampered))
        )
        with pytest.raises(SealError, match="altered"):
            read_directly(first)
        assert _open_vault(client, first, desk["ro"], reason=REASON).status_code == 422
    # A later claim on the damaged record cannot silently replace it either.
    with Session(get_engine()) as session, pytest.raises(SealError):
        vault.scrub_known(session, complaint_id=first, text=f"电话{PHONE}")


# --- 4. key rotation ---------------------------------------------------------------------------

K1, K2 = KeyRing.new_key(), KeyRing.new_key()


@pytest.fixture
def keyed(
    configure: Callable[..., None], database_url: str, redis_url: str, templates: Templates
) -> Callable[..., None]:
    """A platform whose vault keys the test sets, and changes, as an operator would."""

    def use(active: str, **keys: str) -> None:
        configure(
            database_url=database_url,
            redis_url=redis_url,
            vault_keys=json.dumps(keys),
            vault_active_key=active,
        )

    copy_of_template(templates, database_url)
    use("k1", k1=K1)
    with Session(get_engine()) as session:
        add_staff(session, "ro", Role.reward_officer)
        session.commit()
    return use


def _key_ids() -> list[str]:
    with Session(get_engine(read_only=True)) as session:
        rows = session.exec(select(ReporterIdentity).order_by(ReporterIdentity.id)).all()  # type: ignore[arg-type]
        return [row.key_id for row in rows]


def _queue_reporter_text(cid: int) -> int:
    with Session(get_engine(), expire_on_commit=False) as session:
        complaint = session.get(Complaint, cid)
        assert complaint is not None
        assert vault.notify_reporter(
            session, complaint=complaint, template="reporter_question", params={}
        )
        session.commit()
        return int(
            session.exec(select(SmsOutbound.id).where(SmsOutbound.complaint_id == cid)).one()  # type: ignore[arg-type]
        )


def test_rotation_moves_every_identity_to_the_new_key_and_the_old_key_can_go(
    keyed: Callable[..., None],
) -> None:
    from service.app import create_app

    with TestClient(create_app()) as client:
        tips = [file_tip(client, reporter=REPORTER)[0] for _ in range(3)]
    message = _queue_reporter_text(tips[0])
    assert _key_ids() == ["k1", "k1", "k1"]

    keyed("k2", k1=K1, k2=K2)
    runner = CliRunner()
    rotated = runner.invoke(cli_app, ["vault", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    assert "resealed under key 'k2': 3 identities, 1 queued messages" in rotated.output
    assert _key_ids() == ["k2", "k2", "k2"]
    with Session(get_engine(read_only=True)) as session:
        queued = session.get(SmsOutbound, message)
        assert queued is not None
        assert queued.sealed_key_id == "k2"
    again = runner.invoke(cli_app, ["vault", "rotate"])
    assert "0 identities, 0 queued messages" in again.output

    keyed("k2", k2=K2)  # k1 removed
    for cid in tips:
        shown = read_directly(cid)
        assert (shown.name, shown.phone_masked, shown.bank_account) == (
            NAME,
            "139****7777",
            ACCOUNT,
        )
    run_worker_until_idle()  # the queued text opens under k2, is sent, then erased
    with Session(get_engine(read_only=True)) as session:
        sent = session.get(SmsOutbound, message)
        assert sent is not None
        assert (sent.state, sent.sealed_ciphertext, sent.sealed_key_id) == ("sent", None, None)


def test_a_record_left_on_a_removed_key_fails_clearly(keyed: Callable[..., None]) -> None:
    from service.app import create_app

    with TestClient(create_app()) as client:
        cid, _ = file_tip(client, reporter=REPORTER)
    keyed("k2", k2=K2)  # k1 dropped before anyone rotated
    with pytest.raises(SealError, match="vault key 'k1' is not configured"):
        read_directly(cid)
    with TestClient(create_app()) as client:
        answer = _open_vault(client, cid, bearer(client, "ro"), reason=REASON)
    assert answer.status_code == 422
    assert "vault key 'k1' is not configured" in answer.json()["detail"]
    # The rotation command names the problem and exits non-zero; nothing is half-moved.
    result = subprocess.run(
        [sys.executable, "-m", "service", "vault", "rotate"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "vault key 'k1' is not configured" in result.stderr
    assert _key_ids() == ["k1"]
    keyed("k2", k1=K1, k2=K2)  # the old key put back: rotation completes
    assert CliRunner().invoke(cli_app, ["vault", "rotate"]).exit_code == 0
    assert _key_ids() == ["k2"]


def test_new_key_prints_a_json_entry_with_a_fresh_32_byte_key() -> None:
    runner = CliRunner()
    first = runner.invoke(cli_app, ["vault", "new-key", "--id", "2027-01"])
    assert first.exit_code == 0, first.output
    entry = json.loads(first.stdout)
    assert list(entry) == ["2027-01"]
    key = base64.b64decode(entry["2027-01"], validate=True)
    assert len(key) == 32
    second = json.loads(runner.invoke(cli_app, ["vault", "new-key", "--id", "2027-01"]).stdout)
    assert second["2027-01"] != entry["2027-01"]
    KeyRing.from_text(json.dumps(entry | {"k1": K1}), "2027-01")  # usable as printed
    for bad in ("", "   ", 'a"b', "x" * 41):
        result = runner.invoke(cli_app, ["vault", "new-key", "--id", bad])
        assert result.exit_code != 0, bad
        assert "--id must be 1–40 characters without quotes" in result.output, result.output
        assert not result.stdout.strip().startswith("{")
    missing = runner.invoke(cli_app, ["vault", "new-key"])
    assert missing.exit_code != 0
    assert "--id" in missing.output


# --- 5. the reporter's side: reward claims and answers -----------------------------------------


def test_a_reward_claim_puts_the_identity_in_the_vault_and_the_history_only_names_fields(
    desk: dict[str, dict[str, str]], client: TestClient, session: Session
) -> None:
    cid, code = file_tip(client)
    assert _open_vault(client, cid, desk["ro"], reason=REASON).status_code == 404
    claim = client.post(
        "/api/v1/tipoffs/reward-claims",
        json={"receipt_code": code, "identity": REPORTER},
    )
    assert claim.status_code == 201, claim.text
    row = identity_row(cid)
    for value in (NAME, PHONE, ID_NUMBER, ACCOUNT):
        assert value.encode() not in row.ciphertext
    shown = _open_vault(client, cid, desk["ro"], reason=REASON).json()
    assert (shown["name"], shown["bank_account"], shown["id_number_masked"]) == (
        NAME,
        ACCOUNT,
        "110***********002X",
    )
    [claimed] = session.exec(
        select(ComplaintEvent)
        .where(ComplaintEvent.complaint_id == cid)
        .where(ComplaintEvent.reason == "reward claimed")
    ).all()
    assert claimed.actor == "reporter"
    assert claimed.payload == {
        "fields_given": ["bank_account", "bank_name", "id_number", "name", "phone"]
    }
    dumped = json.dumps(claimed.model_dump(mode="json"), ensure_ascii=False)
    for value in (NAME, PHONE, ID_NUMBER, ACCOUNT, BANK):
        assert value not in dumped, value
    followed = client.post("/api/v1/tipoffs/follow-up", json={"receipt_code": code}).json()
    assert followed["identity_on_file"] is True
    assert NAME not in json.dumps(followed, ensure_ascii=False)
    # A second claim adds to what is sealed; it does not drop what was given before.
    more = client.post(
        "/api/v1/tipoffs/reward-claims",
        json={"receipt_code": code, "identity": {"phone": "13700001111"}},
    )
    assert more.status_code == 201
    again = _open_vault(client, cid, desk["ro"], reason=REASON).json()
    assert (again["name"], again["phone_masked"]) == (NAME, "137****1111")
    # A bad claim is refused whole; the code is not spent.
    bad = client.post(
        "/api/v1/tipoffs/reward-claims",
        json={"receipt_code": code, "identity": {"id_number": "110105194912310021"}},
    )
    assert bad.status_code == 422


@pytest.mark.parametrize("identity", [{}, {"name": None, "bank_account": None}])
def test_an_empty_reward_claim_is_refused_and_nothing_is_written(
    sqlite_platform: str, client: TestClient, session: Session, identity: dict[str, Any]
) -> None:
    cid, code = file_tip(client)
    claim = client.post(
        "/api/v1/tipoffs/reward-claims", json={"receipt_code": code, "identity": identity}
    )
    assert claim.status_code == 422, claim.text
    assert claim.json()["errors"][0]["field"] == "identity"
    assert "name, bank_name and bank_account" in claim.text
    events = session.exec(select(ComplaintEvent).where(ComplaintEvent.complaint_id == cid)).all()
    assert "reward claimed" not in [event.reason for event in events]
    assert not vault.has_identity(session, cid)
    followed = client.post("/api/v1/tipoffs/follow-up", json={"receipt_code": code})
    assert followed.json()["identity_on_file"] is False


def test_the_service_refuses_an_empty_claim_from_any_caller(
    sqlite_platform: str, client: TestClient, session: Session
) -> None:
    _, code = file_tip(client)
    with pytest.raises(InvalidInput, match="who to pay"):
        follow_up.claim_reward(session, raw_code=code, identity=ReporterIdentityIn())


def test_a_reporters_answer_is_stored_without_their_own_numbers(
    desk: dict[str, dict[str, str]], client: TestClient, session: Session
) -> None:
    cid, code = file_tip(client, reporter=REPORTER)
    text = (
        f"补充：仓库在某某路，我的电话{PHONE}，也可以打+86{PHONE}或139-0000-7777，"
        f"我叫{NAME}，身份证{ID_NUMBER}。"
    )
    answer = client.post("/api/v1/tipoffs/answers", json={"receipt_code": code, "text": text})
    assert answer.status_code == 201, answer.text
    [stored] = session.exec(
        select(ComplaintEvent)
        .where(ComplaintEvent.complaint_id == cid)
        .where(ComplaintEvent.reason == "reporter answered")
    ).all()
    kept = stored.payload["text"]
    assert kept.startswith("补充：仓库在某某路，我的电话［已隐去］")
    for value in (PHONE, "139-0000-7777", NAME, ID_NUMBER, "+86"):
        assert value not in kept, value
    view = client.get(f"/api/v1/complaints/{cid}", headers=desk["boss"]).text
    assert PHONE not in view
    assert NAME not in view


# --- 6. sealed text messages -------------------------------------------------------------------


def _sms(cid: int) -> list[SmsOutbound]:
    with Session(get_engine(read_only=True)) as session:
        return list(
            session.exec(
                select(SmsOutbound).where(SmsOutbound.complaint_id == cid).order_by(SmsOutbound.id)  # type: ignore[arg-type]
            ).all()
        )


def _assert_sealed_and_clear(message: SmsOutbound) -> None:
    assert (message.to_number, message.body, message.params) == (None, None, {})
    assert message.template == "reporter_question"
    assert message.state == "queued"
    assert message.sealed_key_id == keyring().active
    assert message.sealed_nonce
    assert message.sealed_ciphertext
    for value in (PHONE, "+86" + PHONE):
        assert value.encode() not in message.sealed_ciphertext
    assert message.created_at == day_start()  # the day only, no time of day


def test_a_question_to_the_reporter_is_texted_sealed_then_erased(
    sqlite_desk: dict[str, dict[str, str]], client: TestClient
) -> None:
    cid, _ = file_tip(client, reporter=REPORTER)
    run_worker_until_idle()  # routed to the quality department
    before = len(_sms(cid))
    assert all(m.state == "sent" and m.sealed_ciphertext is None for m in _sms(cid))
    answer = client.post(
        f"/api/v1/complaints/{cid}/actions/ask_reporter",
        json={"question": "请补充仓库的具体位置"},
        headers=sqlite_desk["zj"],
    )
    assert answer.status_code == 200, answer.text
    messages = _sms(cid)
    assert len(messages) == before + 1
    _assert_sealed_and_clear(messages[-1])
    run_worker_until_idle()
    sent = _sms(cid)[-1]
    assert sent.state == "sent"
    assert sent.provider == "log"
    assert (sent.sealed_key_id, sent.sealed_nonce, sent.sealed_ciphertext) == (None, None, None)
    assert (sent.to_number, sent.body, sent.params) == (None, None, {})
    assert sent.attempts == 1


def test_notify_reporter_seals_the_message_and_an_anonymous_reporter_gets_none(
    sqlite_desk: dict[str, dict[str, str]], client: TestClient
) -> None:
    named, _ = file_tip(client, reporter=REPORTER)
    anonymous, _ = file_tip(client)
    no_phone, _ = file_tip(client, reporter={"name": NAME})
    message = _queue_reporter_text(named)
    [queued] = [m for m in _sms(named) if m.id == message]
    _assert_sealed_and_clear(queued)
    with Session(get_engine()) as session:
        for cid in (anonymous, no_phone):
            complaint = session.get(Complaint, cid)
            assert complaint is not None
            assert not vault.notify_reporter(
                session, complaint=complaint, template="reporter_question", params={}
            )
    run_worker_until_idle()
    sent = next(m for m in _sms(named) if m.id == message)
    assert (sent.state, sent.sealed_ciphertext, sent.to_number, sent.body) == (
        "sent",
        None,
        None,
        None,
    )
    assert _sms(anonymous) == []
    assert _sms(no_phone) == []


def test_a_blank_active_key_means_the_only_key(
    configure: Callable[..., None], sqlite_url: str, redis_url: str, templates: Templates
) -> None:
    """compose.yaml passes COMPLAINTS_VAULT_ACTIVE_KEY as "" when it is not set."""
    from core.errors import InvalidInput

    migrated_platform(
        configure,
        sqlite_url,
        redis_url,
        templates,
        vault_keys=json.dumps({"2027-01": K1}),
        vault_active_key="",
    )
    assert keyring().active == "2027-01"
    from service.app import create_app

    with TestClient(create_app()) as client:
        cid, _ = file_tip(client, reporter=REPORTER)
    assert identity_row(cid).key_id == "2027-01"
    configure(
        database_url=sqlite_url,
        redis_url=redis_url,
        vault_keys=json.dumps({"k1": K1, "k2": K2}),
        vault_active_key="",
    )
    with pytest.raises(InvalidInput, match="set COMPLAINTS_VAULT_ACTIVE_KEY"):
        keyring()
