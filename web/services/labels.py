"""The Chinese a clerk reads for the internal names of actions, states, roles and actors.

Audit actions, ingest states, roles and the few machine actors (the demo loader, the scanner's
folder, the reader) are stored under short English names; every page, export and message shows
them through this one table, so a new action is named once and nowhere reads "sign-reply".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import User

ROLE_LABELS = {"clerk": "登记员", "handler": "承办人", "leader": "领导", "admin": "管理员"}

# How a matter came (records.models.CHANNELS): a letter's page is headed by it, the register
# shows it; a document says "韩秋菊来访反映" with CHANNEL_WORDS (来信 only for a letter).
CHANNEL_LABELS = {"letter": "来信", "visit": "来访", "phone": "来电", "mailbox": "领导信箱",
                  "online": "网上信访"}
CHANNEL_WORDS = {"letter": "来信", "visit": "来访", "phone": "来电", "mailbox": "通过领导信箱",
                 "online": "通过网上信访"}

# What each audit action is called in a timeline or the audit log.
EVENT_LABELS = {
    "open-case": "立案", "link-letter": "关联来信", "transition": "办理", "flag": "标记",
    "assign-owner": "指定承办单位", "mark-accusation": "记录被检举对象", "hearing": "听证",
    "joint-meeting": "联席会议", "supervise-reminder": "催办", "supervise-note": "督办记录",
    "supervise-escalation": "挂牌督办", "supervision-resolved": "督办办结",
    "instruction": "领导批示", "instruction-action-done": "批示事项落实", "rate": "满意度评价",
    "query-code": "重新生成查询码",
    "register": "来信登记", "read": "阅览", "write-down": "记录来访来电",
    "link-petitioner": "确认信访人", "unlink-petitioner": "移除信访人",
    "confirm": "确认登记信息", "review": "校对", "ingest-failed": "识别失败",
    "edit-line": "修改识别文字", "reply": "生成答复文书", "generate-reply": "生成答复文书",
    "sign-reply": "签章", "sign": "签章", "deliver-reply": "送达", "deliver": "送达",
    "download": "下载文书", "search": "检索", "login": "登录", "logout": "退出",
    "add-user": "新增用户", "change-user": "修改用户", "disable-user": "停用用户",
    "enable-user": "启用用户",
    "set-password": "设置密码", "reset-password": "重置密码", "change-password": "修改密码",
    "request-role": "申请授予读信角色", "confirm-role": "确认授予读信角色",
    "refused": "越权访问被拒绝",
    "add-unit": "新增单位", "rename-unit": "修改单位名称", "add-place": "新增地名",
    "remove-place": "删除地名", "import-places": "导入地名", "add-category": "新增类别",
    "activate-category": "启用类别", "deactivate-category": "停用类别",
    "set-route": "设置分办规则", "remove-route": "删除分办规则",
    "classify": "确定事项类别", "not-accept-letter": "再次来信不予受理",
    "upload-template": "上传文书模板", "upload-seal": "上传印章", "remove-seal": "删除印章",
    "import-certificate": "导入签章证书", "add-office-day": "新增节假日",
    "remove-office-day": "删除节假日", "case-note": "办理情况记录",
    "correct-receipt": "更正收信日期", "document-signed": "文书签发",
    "document-delivered": "文书送达",
    "case-attachment": "上传附件",
    # 领导接待日, 重大紧急 (§25); 调解/和解 (§33) is a "transition" of step "settle"
    "reception-day": "记录领导接待日", "received-at": "列入领导接待日", "urgent": "重大紧急",
    "edit-reception": "修改领导接待日", "save-filter": "保存常用筛选",
    "remove-filter": "删除常用筛选", "sign-refused": "签章未通过确认",
}
ENTITY_LABELS = {"case": "事项", "letter": "来信", "reply": "文书", "user": "用户",
                 "unit": "单位", "place": "地名", "category": "类别", "route": "分办规则",
                 "template": "文书模板", "seal": "印章", "certificate": "证书",
                 "calendar": "节假日", "session": "登录", "reception": "接待日",
                 "saved_filter": "常用筛选"}
# Reasons the records layer writes in English (records owns the words it stores).
REASON_LABELS = {"routing table": "按分办规则自动分办"}
# Actors that are not people: the demo loader, the scanners' folder, the background reader.
MACHINE_ACTORS = {"demo": "演示数据", "intake-folder": "扫描文件夹", "ingest": "自动识别",
                  "worker": "后台任务", "system": "系统", "bench": "压力测试",
                  "cli": "命令行"}
# How a letter's intake reads to a clerk, not the pipeline's five states.
INGEST_LABELS = {"registered": "识别中", "stored": "识别中", "read": "识别中",
                 "indexed": "已识别", "failed": "识别失败"}


def event_label(action: str) -> str:
    """An audit action in Chinese (an unknown one reads 其他操作, never its internal name)."""
    return EVENT_LABELS.get(action, "其他操作")


def display_names(session: Session, usernames: Iterable[str] | None = None) -> dict[str, str]:
    """user name → the name a person is shown by (machine actors included)."""
    query = select(User.username, User.display_name)
    if usernames is not None:
        wanted = {u for u in usernames if u}
        if not wanted:
            return dict(MACHINE_ACTORS)
        query = query.where(User.username.in_(wanted))
    names = {username: display or username for username, display in session.execute(query)}
    return {**MACHINE_ACTORS, **names}


def person(username: str | None, names: Mapping[str, str]) -> str:
    """A user name as shown on a page: the display name when the person has one."""
    if not username:
        return ""
    return names.get(username) or username


TEMPLATE_SOURCES = {"builtin": "系统内置模板", "office": "本单位上传的模板"}


def template_version_label(version: str | None) -> str:
    """Which template a reply came from, as 系统内置模板（校验码 01471b2c）."""
    if not version:
        return "未记录"
    source, _, digest = version.partition(":")
    return f"{TEMPLATE_SOURCES.get(source, '模板')}（校验码 {digest[:8] or '未记录'}）"


# The register's 状态 filter: what a clerk tells apart (the pipeline's states grouped).
INGEST_FILTERS = {"reading": ("识别中", ("registered", "stored", "read")),
                  "indexed": ("已识别", ("indexed",)), "failed": ("识别失败", ("failed",))}


# The parts of a certificate's subject and issuer (X.509 attribute names) in Chinese.
CERTIFICATE_PARTS = {"common_name": "名称", "organization_name": "单位",
                     "organizational_unit_name": "部门", "country_name": "国家",
                     "state_or_province_name": "省", "locality_name": "市县",
                     "email_address": "电子邮件", "serial_number": "序列号",
                     "organization_identifier": "统一社会信用代码"}


def certificate_name(parts: Mapping[str, object]) -> str:
    """A certificate's subject or issuer as 名称：清河县信访局；单位：清河县信访局."""
    shown = []
    for key, value in parts.items():
        values = value if isinstance(value, list) else [value]
        text = "、".join(str(v) for v in values)
        if key == "country_name" and text == "CN":
            text = "中国"
        shown.append(f"{CERTIFICATE_PARTS.get(key, '其他')}：{text}")
    return "；".join(shown)
