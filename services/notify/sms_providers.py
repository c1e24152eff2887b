"""Chinese cloud SMS providers, each sending only approved templates under a registered
signature (签名): Aliyun SMS (dysmsapi ``SendSms``, RPC-style request signed with HMAC-SHA1) and
Tencent Cloud SMS (``SendSms`` 2021-01-11, signed with TC3-HMAC-SHA256).

The requests are signed here by hand and sent with httpx, not through the providers' SDKs
(``alibabacloud-dysmsapi20170525``, ``tencentcloud-sdk-python-sms``): both SDKs make blocking
HTTP calls, which would stall the notify worker's event loop (or need a thread per text), and a
signature is a few lines, checked in the tests against the worked examples of the providers'
public documentation and by stand-in servers that verify it as the providers do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

import httpx

from services.notify.sms_templates import SmsTemplate, fill

ALIYUN = "aliyun"
TENCENT = "tencent"
ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
TENCENT_ENDPOINT = "https://sms.tencentcloudapi.com/"
ALIYUN_REGION = "cn-hangzhou"
TENCENT_REGION = "ap-guangzhou"
# The longest parameter each provider takes unless the operator's table says otherwise (Aliyun:
# 35 characters a variable; Tencent: 12 for most accounts). Approved templates may say less.
DEFAULT_PARAM_LIMIT = {ALIYUN: 35, TENCENT: 12}
TENCENT_CONTENT_TYPE = "application/json; charset=utf-8"
TENCENT_VERSION = "2021-01-11"
ALIYUN_VERSION = "2017-05-25"


class SmsRefused(Exception):
    """The provider answered, and not with a sent message: its code and message."""


# --- Aliyun: RPC-style signature (SignatureVersion 1.0, HMAC-SHA1) -------------------------


def percent_encode(value: str) -> str:
    """RFC 3986 as Aliyun's RPC signature wants it: UTF-8, space as %20, ``*`` as %2A, ``~`` kept."""
    return quote(value, safe="-_.~")


def aliyun_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """``METHOD&%2F&`` + the encoded canonical query (parameters sorted by name)."""
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def aliyun_signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    """Base64 of HMAC-SHA1, keyed with the AccessKey secret and ``&``, over the string to sign."""
    string_to_sign = aliyun_string_to_sign(method, params).encode()
    return base64.b64encode(hmac.new(f"{secret}&".encode(), string_to_sign, hashlib.sha1).digest()).decode()


# --- Tencent Cloud: TC3-HMAC-SHA256 -------------------------------------------------------


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def tc3_signature(
    secret_key: str, service: str, host: str, payload: bytes, timestamp: int, content_type: str
) -> str:
    """The TC3-HMAC-SHA256 signature of a POST to ``/`` signing content-type and host."""
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{content_type}\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    signing_key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    return hmac.new(signing_key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def tc3_authorization(
    secret_id: str, secret_key: str, service: str, host: str, payload: bytes, timestamp: int
) -> str:
    signature = tc3_signature(secret_key, service, host, payload, timestamp, TENCENT_CONTENT_TYPE)
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{date}/{service}/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={signature}"
    )


# --- the adapters -------------------------------------------------------------------------


class AliyunSms:
    """Aliyun SMS ``SendSms``: a form POST, signed, with the template code and its parameters
    as a JSON object. A fresh ``SignatureNonce`` per attempt (Aliyun refuses one used before)."""

    provider = "aliyun-sms"

    def __init__(
        self,
        endpoint: str,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        region: str = ALIYUN_REGION,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.endpoint, self.key_id, self.secret = endpoint, access_key_id, access_key_secret
        self.sign_name, self.region, self.clock = sign_name, region, clock

    def request(
        self, phone: str, template: SmsTemplate, values: Mapping[str, str], out_id: str
    ) -> dict[str, str]:
        """The signed parameters of one text (phone: 11 mainland digits)."""
        params = {
            "AccessKeyId": self.key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": out_id,
            "PhoneNumbers": phone,
            "RegionId": self.region,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": template.code,
            "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.clock())),
            "Version": ALIYUN_VERSION,
        }
        filled = dict(fill(template, values))
        if filled:
            params["TemplateParam"] = json.dumps(filled, ensure_ascii=False, separators=(",", ":"))
        params["Signature"] = aliyun_signature(self.secret, "POST", params)
        return params

    async def send(
        self,
        client: httpx.AsyncClient,
        phone: str,
        template: SmsTemplate,
        values: Mapping[str, str],
        out_id: str,
    ) -> None:
        response = await client.post(self.endpoint, data=self.request(phone, template, values, out_id))
        try:
            answer = response.json()
        except ValueError as exc:
            raise SmsRefused(f"HTTP {response.status_code}: {response.text[:200]}") from exc
        if answer.get("Code") != "OK":
            raise SmsRefused(f"HTTP {response.status_code}: {answer.get('Code')}: {answer.get('Message')}")


class TencentSms:
    """Tencent Cloud SMS ``SendSms``: a JSON POST with the template id and its parameters in
    order, signed with TC3-HMAC-SHA256 over content-type and host."""

    provider = "tencent-sms"

    def __init__(
        self,
        endpoint: str,
        secret_id: str,
        secret_key: str,
        sign_name: str,
        sdk_app_id: str,
        region: str = TENCENT_REGION,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.endpoint, self.secret_id, self.secret_key = endpoint, secret_id, secret_key
        self.sign_name, self.sdk_app_id, self.region, self.clock = sign_name, sdk_app_id, region, clock
        self.host = urlsplit(endpoint).netloc

    def request(
        self, phone: str, template: SmsTemplate, values: Mapping[str, str], session: str
    ) -> tuple[dict[str, str], bytes]:
        """The headers and body of one text (phone: 11 mainland digits, sent as +86…)."""
        body = {
            "PhoneNumberSet": [f"+86{phone}"],
            "SmsSdkAppId": self.sdk_app_id,
            "SignName": self.sign_name,
            "TemplateId": template.code,
            "TemplateParamSet": [value for _, value in fill(template, values)],
            "SessionContext": session,
        }
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(self.clock())
        headers = {
            "Authorization": tc3_authorization(
                self.secret_id, self.secret_key, "sms", self.host, payload, timestamp
            ),
            "Content-Type": TENCENT_CONTENT_TYPE,
            "Host": self.host,
            "X-TC-Action": "SendSms",
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": TENCENT_VERSION,
            "X-TC-Region": self.region,
        }
        return headers, payload

    async def send(
        self,
        client: httpx.AsyncClient,
        phone: str,
        template: SmsTemplate,
        values: Mapping[str, str],
        out_id: str,
    ) -> None:
        headers, payload = self.request(phone, template, values, out_id)
        response = await client.post(self.endpoint, content=payload, headers=headers)
        try:
            answer = response.json()["Response"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SmsRefused(f"HTTP {response.status_code}: {response.text[:200]}") from exc
        if "Error" in answer:
            error = answer["Error"]
            raise SmsRefused(f"HTTP {response.status_code}: {error.get('Code')}: {error.get('Message')}")
        statuses = answer.get("SendStatusSet") or [{}]
        if statuses[0].get("Code") != "Ok":
            raise SmsRefused(f"{statuses[0].get('Code')}: {statuses[0].get('Message')}")
