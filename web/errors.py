"""Error pages in Chinese (HTML for pages, JSON for /api and upload requests)."""

from __future__ import annotations

from flask import jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from library.errors import LecturelibError, NotFoundError, UsageError

from .library import IndexBusy, SearchBusy

MESSAGES = {
    400: ("请求无效", "请返回上一页重试。"),
    401: ("需要登录", "请先登录。"),
    403: ("没有权限", "此页面仅对有相应权限的账号开放。"),
    404: ("页面不存在", "链接可能已失效，或材料已被删除。"),
    405: ("不支持的操作", "请从页面上的按钮操作。"),
    413: ("文件过大", ""),
    429: ("操作过于频繁", "请稍后再试。"),
    500: ("服务器内部错误", "请稍后再试；如果问题持续，请联系管理员。"),
    503: ("暂时无法检索", "请稍候刷新页面。"),
}


def wants_json() -> bool:
    return (
        request.path.startswith("/api/")
        or request.headers.get("X-Requested-With") == "fetch"
        or request.accept_mimetypes.best == "application/json"
    )


# A hint that names a server command (“请运行 lecturelib check”) means nothing to a speaker at a
# browser; only an administrator, who runs the server, is shown the command.
FOR_THE_ADMIN = "请联系资料库管理员处理。"


def _hint_for_this_user(hint: str) -> str:
    from .security import is_admin

    if "lecturelib " in (hint or "") and not is_admin():
        return FOR_THE_ADMIN
    return hint


def render_error(status: int, title: str, message: str, hint: str = "", **extra):
    hint = _hint_for_this_user(hint)
    if wants_json():
        body = {"error": {"status": status, "message": message, "hint": hint}}
        body["error"].update(extra)
        return jsonify(body), status
    return render_template(
        "error.html", status=status, title=title, message=message, hint=hint, **extra
    ), status


def init_app(app) -> None:
    @app.errorhandler(HTTPException)
    def _http(e: HTTPException):
        title, hint = MESSAGES.get(e.code or 500, (e.name, ""))
        message = title
        if e.code == 400 and e.description == "csrf":
            message = "表单已过期或来源无效（安全校验未通过）。"
            hint = "请刷新页面后重新提交。"
        elif e.code == 413:
            mb = f"{app.config['LECTURELIB_HOME_OBJ'].config.max_file_mb:g}"
            message = f"上传的文件超过了大小上限（每个文件最多 {mb} MB）。"
            hint = (
                "请拆分文件或压缩其中的图片后再上传；管理员可在 settings.json 中调整 max_file_mb。"
            )
        elif e.code == 404 and isinstance(e.description, str) and e.description.startswith("找"):
            message = e.description
        return render_error(e.code or 500, title, message, hint)

    @app.errorhandler(SearchBusy)
    def _search_busy(e: SearchBusy):
        resp = render_error(429, "检索繁忙", e.message, e.hint or "")
        resp = app.make_response(resp)
        resp.headers["Retry-After"] = "5"
        return resp

    @app.errorhandler(IndexBusy)
    def _busy(e: IndexBusy):
        return render_error(503, "正在重建索引", e.message, e.hint or "", job=e.job.to_json())

    @app.errorhandler(NotFoundError)
    def _not_found(e: NotFoundError):
        return render_error(404, "找不到", e.message, e.hint or "")

    @app.errorhandler(UsageError)
    def _usage(e: UsageError):
        return render_error(400, "请求无效", e.message, e.hint or "")

    @app.errorhandler(LecturelibError)
    def _lib(e: LecturelibError):
        return render_error(500, "出错了", e.message, e.hint or "")
