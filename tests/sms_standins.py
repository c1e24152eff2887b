"""Stand-ins for Aliyun SMS and Tencent Cloud SMS: real HTTP servers on 127.0.0.1 that check a
``SendSms`` request the way the providers do (the signature recomputed here from the request
as received, by code independent of Linli's; the registered signature name, template and its
parameters, their lengths, the number) and answer in each provider's shape. What they accept
is kept, so tests can read which template went to which number with which parameters.

The verification code is checked against the worked examples of the providers' public
documentation in tests/test_sms_providers.py.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import time
import urllib.parse
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.notify.sms_providers import ALIYUN_VERSION, TENCENT_VERSION  # API versions, not days
from tests.conftest import eventually
from tests.test_launcher import free_port


@asynccontextmanager
async def serving(app: Starlette, port: int) -> AsyncIterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return bool(server.started)

    assert await eventually(started)
    try:
        yield
    finally:
        server.should_exit = True
        await task


@dataclass(frozen=True)
class Registered:
    """A template as approved at the provider: its variables in order, each with its limit."""

    code: str
    variables: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Text:
    phone: str
    sign_name: str
    code: str
    params: dict[str, str]


# --- Aliyun -------------------------------------------------------------------------------


def aliyun_expected_signature(method: str, params: Mapping[str, str], secret: str) -> str:
    """Aliyun's RPC signature as its documentation spells it out: URL-encode names and values
    (UTF-8, then "+" -> "%20", "*" -> "%2A", "%7E" -> "~"), sort by name, join with "&", then
    sign ``METHOD + "&" + enc("/") + "&" + enc(that)`` with HMAC-SHA1 keyed ``secret + "&"``."""

    def enc(text: str) -> str:
        return (
            urllib.parse.quote_plus(text, encoding="utf-8")
            .replace("+", "%20")
            .replace("*", "%2A")
            .replace("%7E", "~")
        )

    pairs = sorted((enc(k), enc(v)) for k, v in params.items() if k != "Signature")
    query = "&".join(f"{k}={v}" for k, v in pairs)
    to_sign = method.upper() + "&" + enc("/") + "&" + enc(query)
    digest = hmac.new((secret + "&").encode(), to_sign.encode("utf-8"), "sha1").digest()
    return base64.b64encode(digest).decode()


@dataclass
class AliyunStandIn:
    key_id: str
    secret: str
    sign_name: str
    templates: dict[str, Registered]  # by template code
    port: int = field(default_factory=free_port)
    accepted: list[Text] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)  # number -> failures left (-1: always)
    tries: Counter[str] = field(default_factory=Counter)
    nonces: set[str] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _refuse(self, code: str, status: int = 400) -> JSONResponse:
        self.refused.append(code)
        return JSONResponse({"Code": code, "Message": code, "RequestId": "standin"}, status_code=status)

    async def endpoint(self, request: Request) -> JSONResponse:
        if request.method == "POST":
            if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                return self._refuse("InvalidParameter.ContentType")
            form = urllib.parse.parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True)
            params = dict(form)
        else:
            params = dict(request.query_params)
        for name in ("AccessKeyId", "Signature", "SignatureNonce", "Timestamp", "SignatureMethod"):
            if name not in params:
                return self._refuse(f"MissingParameter.{name}")
        if params["AccessKeyId"] != self.key_id:
            return self._refuse("InvalidAccessKeyId.NotFound", 404)
        if params["SignatureMethod"] != "HMAC-SHA1" or params.get("SignatureVersion") != "1.0":
            return self._refuse("InvalidSignatureMethod")
        if params["Signature"] != aliyun_expected_signature(request.method, params, self.secret):
            return self._refuse("SignatureDoesNotMatch")
        if params["SignatureNonce"] in self.nonces:
            return self._refuse("SignatureNonceUsed")
        self.nonces.add(params["SignatureNonce"])
        stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if abs(stamp.timestamp() - time.time()) > 15 * 60:
            return self._refuse("InvalidTimeStamp.Expired")
        if (params.get("Action"), params.get("Version")) != ("SendSms", ALIYUN_VERSION):
            return self._refuse("InvalidAction.NotFound")
        phone = params.get("PhoneNumbers", "")
        if not re.fullmatch(r"1[3-9]\d{9}", phone):
            return self._refuse("isv.MOBILE_NUMBER_ILLEGAL", 200)
        if params.get("SignName") != self.sign_name:
            return self._refuse("isv.SMS_SIGNATURE_ILLEGAL", 200)
        template = self.templates.get(params.get("TemplateCode", ""))
        if template is None:
            return self._refuse("isv.SMS_TEMPLATE_ILLEGAL", 200)
        values = json.loads(params.get("TemplateParam") or "{}")
        if not isinstance(values, dict) or set(values) != {name for name, _ in template.variables}:
            return self._refuse("isv.TEMPLATE_MISSING_PARAMETERS", 200)
        for name, limit in template.variables:
            if not isinstance(values[name], str) or len(values[name]) > limit:
                return self._refuse("isv.PARAM_LENGTH_LIMIT", 200)
        self.tries[phone] += 1
        left = self.failures.get(phone, 0)
        if left:
            self.failures[phone] = left - 1 if left > 0 else left
            return self._refuse("isv.BUSINESS_LIMIT_CONTROL", 200)
        self.accepted.append(Text(phone, params["SignName"], template.code, values))
        return JSONResponse({"Code": "OK", "Message": "OK", "BizId": "9006197469364984400", "RequestId": "x"})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/", self.endpoint, methods=["GET", "POST"])])

    def texts_to(self, phone: str) -> list[Text]:
        return [t for t in self.accepted if t.phone == phone]


# --- Tencent Cloud --------------------------------------------------------------------------


def tc3_expected_signature(
    secret_key: str, date: str, service: str, timestamp: str, headers: Mapping[str, str], body: bytes
) -> str:
    """TC3-HMAC-SHA256 as Tencent's documentation spells it out, over the request as received:
    the canonical request (method, URI, query, the signed headers lower-cased and trimmed, their
    names, the body's SHA-256), the string to sign, and the key derived date -> service ->
    "tc3_request" from "TC3" + the secret key."""
    canonical_headers = "".join(
        f"{name}:{headers[name].strip().lower()}\n" for name in ("content-type", "host")
    )
    canonical = "\n".join(
        ["POST", "/", "", canonical_headers, "content-type;host", hashlib.sha256(body).hexdigest()]
    )
    to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            timestamp,
            f"{date}/{service}/tc3_request",
            hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        ]
    )
    key = ("TC3" + secret_key).encode("utf-8")
    for part in (date, service, "tc3_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


_AUTHORIZATION = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>\w+)/tc3_request, "
    r"SignedHeaders=(?P<signed>[a-z;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)


@dataclass
class TencentStandIn:
    secret_id: str
    secret_key: str
    sdk_app_id: str
    sign_name: str
    templates: dict[str, Registered]  # by template id
    port: int = field(default_factory=free_port)
    accepted: list[Text] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    tries: Counter[str] = field(default_factory=Counter)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _error(self, code: str) -> JSONResponse:
        self.refused.append(code)
        return JSONResponse({"Response": {"Error": {"Code": code, "Message": code}, "RequestId": "standin"}})

    async def endpoint(self, request: Request) -> JSONResponse:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        found = _AUTHORIZATION.fullmatch(headers.get("authorization", ""))
        if found is None or found["signed"] != "content-type;host":
            return self._error("AuthFailure.InvalidAuthorization")
        if found["id"] != self.secret_id:
            return self._error("AuthFailure.SecretIdNotFound")
        timestamp = headers.get("x-tc-timestamp", "")
        if not timestamp.isdigit() or abs(int(timestamp) - time.time()) > 300:
            return self._error("AuthFailure.SignatureExpire")
        date = datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d")
        expected = tc3_expected_signature(self.secret_key, date, "sms", timestamp, headers, body)
        if found["date"] != date or found["service"] != "sms" or found["signature"] != expected:
            return self._error("AuthFailure.SignatureFailure")
        if (headers.get("x-tc-action"), headers.get("x-tc-version")) != ("SendSms", TENCENT_VERSION):
            return self._error("InvalidAction")
        try:
            sent: dict[str, Any] = json.loads(body)
        except ValueError:
            return self._error("InvalidParameter.JsonParseError")
        if sent.get("SmsSdkAppId") != self.sdk_app_id:
            return self._error("FailedOperation.SmsSdkAppIdVerifyFail")
        if sent.get("SignName") != self.sign_name:
            return self._error("FailedOperation.SignatureIncorrectOrUnapproved")
        template = self.templates.get(str(sent.get("TemplateId")))
        if template is None:
            return self._error("FailedOperation.TemplateIncorrectOrUnapproved")
        numbers = sent.get("PhoneNumberSet") or []
        if len(numbers) != 1 or not re.fullmatch(r"\+861[3-9]\d{9}", str(numbers[0])):
            return self._error("InvalidParameterValue.IncorrectPhoneNumber")
        values = sent.get("TemplateParamSet") or []
        if len(values) != len(template.variables):
            return self._error("InvalidParameterValue.TemplateParameterFormatError")
        for value, (_, limit) in zip(values, template.variables, strict=True):
            if not isinstance(value, str) or len(value) > limit:
                return self._error("InvalidParameterValue.TemplateParameterLengthLimit")
        phone = str(numbers[0]).removeprefix("+86")
        self.tries[phone] += 1
        left = self.failures.get(phone, 0)
        status = {
            "SerialNo": "2019:1",
            "PhoneNumber": numbers[0],
            "Fee": 1,
            "SessionContext": "",
            "IsoCode": "CN",
        }
        if left:
            self.failures[phone] = left - 1 if left > 0 else left
            self.refused.append("LimitExceeded.PhoneNumberDailyLimit")
            failed = {**status, "Code": "LimitExceeded.PhoneNumberDailyLimit", "Message": "limit"}
            return JSONResponse({"Response": {"SendStatusSet": [failed], "RequestId": "standin"}})
        names = [name for name, _ in template.variables]
        self.accepted.append(
            Text(phone, sent["SignName"], template.code, dict(zip(names, values, strict=True)))
        )
        ok = {**status, "Code": "Ok", "Message": "send success"}
        return JSONResponse({"Response": {"SendStatusSet": [ok], "RequestId": "standin"}})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/", self.endpoint, methods=["POST"])])

    def texts_to(self, phone: str) -> list[Text]:
        return [t for t in self.accepted if t.phone == phone]
