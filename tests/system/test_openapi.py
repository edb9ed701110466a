"""docs/openapi.yaml is a valid OpenAPI 3.0 document, and it describes the API the
binaries serve: every documented GET answers with a documented status and a body its
schema accepts, and every error code the code can answer with is in docs/api.md.

Validators: the OpenAPI Initiative's JSON Schema for 3.0 (Debian package
openapi-specification) applied with python3-jsonschema, plus the checks a spec
validator adds (references resolve, path parameters declared, operation ids unique);
and, where npm is available, @apidevtools/swagger-cli installed into build/npm-tools."""
import copy
import json
import os
import re
import shutil
import subprocess

import jsonschema
import pytest
import requests
import yaml

from yxsys import ROOT, wait_for

DOC = os.path.join(ROOT, "docs", "openapi.yaml")
API_MD = os.path.join(ROOT, "docs", "api.md")
OAS_SCHEMA = "/usr/share/openapi-specification/schemas/v3.0/schema.json"
SWAGGER_CLI = "@apidevtools/swagger-cli@4.0.4"
OP = "demo-operator-key"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@pytest.fixture(scope="module")
def doc():
    with open(DOC, encoding="utf-8") as f:
        return yaml.safe_load(f)


def _refs(node, path="#"):
    """Every $ref in the document with where it is."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield path, v
            else:
                yield from _refs(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _refs(v, f"{path}/{i}")


def _resolve(doc, ref):
    assert ref.startswith("#/"), f"only local references are used: {ref}"
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"unresolved reference {ref}"
        node = node[part]
    return node


def test_valid_against_the_openapi_3_0_schema(doc):
    assert os.path.exists(OAS_SCHEMA), "install the Debian package openapi-specification (scripts/deps.sh)"
    with open(OAS_SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    validator = jsonschema.validators.validator_for(schema)(schema)
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(doc)]
    assert not problems, "\n".join(problems)
    assert doc["openapi"].startswith("3.0.")


def test_references_parameters_and_operation_ids(doc):
    for where, ref in _refs(doc):
        _resolve(doc, ref)
    seen = set()
    for path, item in doc["paths"].items():
        templated = set(re.findall(r"\{([^}]+)\}", path))
        shared = [_resolve(doc, p["$ref"]) if "$ref" in p else p for p in item.get("parameters", [])]
        for method in METHODS:
            op = item.get(method)
            if not op:
                continue
            assert op.get("operationId") and op["operationId"] not in seen, (path, method)
            seen.add(op["operationId"])
            params = shared + [_resolve(doc, p["$ref"]) if "$ref" in p else p for p in op.get("parameters", [])]
            in_path = {p["name"] for p in params if p["in"] == "path"}
            assert in_path == templated, (path, method, in_path, templated)
            assert all(p.get("required") for p in params if p["in"] == "path"), (path, method)
            for code in op["responses"]:
                assert re.fullmatch(r"[1-5][0-9][0-9]|default", str(code)), (path, method, code)


def test_swagger_cli_validates_it():
    npm = shutil.which("npm")
    if not npm:
        pytest.skip("npm is not installed: the Debian validation above still ran")
    tools = os.path.join(ROOT, "build", "npm-tools")
    cli = os.path.join(tools, "node_modules", ".bin", "swagger-cli")
    if not os.path.exists(cli):
        os.makedirs(tools, exist_ok=True)
        r = subprocess.run([npm, "install", "--prefix", tools, "--no-audit", "--no-fund", "--loglevel=error",
                            SWAGGER_CLI], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
    r = subprocess.run([cli, "validate", DOC], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_error_code_is_documented():
    """The codes the C sources answer with (500s are not for callers) are all in docs/api.md."""
    with open(API_MD, encoding="utf-8") as f:
        api = f.read()
    patterns = [r'yx_http_error \([^,]+, (\d{3}), "([a-z_]+)"', r'yx_act_fail \([^,]+, (\d{3}), "([a-z_]+)"',
                r's_err \(err, (\d{3}), "([a-z_]+)"']
    found = {}
    for folder in ("services/intake", "services/dispatcher", "services/common", "services/metrics"):
        for name in sorted(os.listdir(os.path.join(ROOT, folder))):
            if not name.endswith(".c") or name == "native.c":
                continue
            with open(os.path.join(ROOT, folder, name), encoding="utf-8") as f:
                text = f.read()
            for pat in patterns:
                for status, code in re.findall(pat, text):
                    if status != "500":
                        found.setdefault(code, f"{folder}/{name}")
    assert len(found) > 30
    missing = {c: where for c, where in found.items() if f"`{c}`" not in api}
    assert not missing, f"error codes not in docs/api.md: {missing}"


# -- the document against the running system --------------------------------------

def _json_schema(doc, node):
    """An OpenAPI 3.0 schema as plain JSON Schema: references inlined, nullable as a
    null alternative, OpenAPI-only keywords dropped."""
    if isinstance(node, list):
        return [_json_schema(doc, n) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _json_schema(doc, _resolve(doc, node["$ref"]))
    out = {}
    for k, v in node.items():
        if k in ("nullable", "xml", "example", "description", "format"):
            continue
        if k == "properties":   # names here are field names, not keywords
            out[k] = {name: _json_schema(doc, s) for name, s in v.items()}
        else:
            out[k] = v if k in ("enum", "required") else _json_schema(doc, v)
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = out["enum"] + [None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _check(doc, path, method, r, fmt="json"):
    """r's status is documented for the operation, and a JSON body fits its schema."""
    op = doc["paths"][path][method]
    assert str(r.status_code) in op["responses"], (path, method, r.status_code, r.text[:300])
    resp = op["responses"][str(r.status_code)]
    resp = _resolve(doc, resp["$ref"]) if "$ref" in resp else resp
    if fmt != "json" or "application/json" not in resp.get("content", {}):
        return
    schema = _json_schema(doc, copy.deepcopy(resp["content"]["application/json"]["schema"]))
    jsonschema.validate(r.json(), schema)


def test_the_running_api_matches_the_document(yx, doc):
    r = yx.report(source_ref="openapi-1", media=["https://example.org/a.jpg"],
                  reporter={"name": "陈女士", "phone": "13800135678"})
    _check(doc, "/v1/cases", "post", r)
    case_id = r.json()["id"]
    _check(doc, "/v1/cases", "post", yx.report(source_ref="openapi-1"))
    _check(doc, "/v1/cases", "post", yx.report(location={"lat": 95, "lon": 119.3}))
    _check(doc, "/v1/cases", "post", yx.call("POST", "/v1/cases", "demo-hotline-key", raw=b"{"))
    _check(doc, "/v1/cases", "post", yx.call("POST", "/v1/cases", None, {}))
    yx.wait_state(case_id, "DISPATCHED")
    r = yx.act(case_id, "demo-dept-fz-water", "accept")
    _check(doc, "/v1/cases/{id}/actions", "post", r)
    _check(doc, "/v1/cases/{id}/actions", "post", yx.act(case_id, OP, "close"))     # 409
    _check(doc, "/v1/cases/{id}/actions", "post", yx.act(case_id, OP, "fly"))       # 422

    o311 = requests.post(yx.url("/open311/v2/requests.json"), timeout=10,
                         data={"api_key": "demo-open311-key", "service_code": "0111", "lat": "26.0845",
                               "long": "119.2960", "description": "路灯不亮"})
    _check(doc, "/open311/v2/requests.{format}", "post", o311)
    _check(doc, "/open311/v2/requests.{format}", "post",
           requests.post(yx.url("/open311/v2/requests.json"), data={"api_key": "x"}, timeout=10))

    values = {"id": case_id, "service_code": "0102", "service_request_id": case_id, "token": case_id}
    calls = 0
    for path, item in doc["paths"].items():
        if "get" not in item:
            continue
        metrics = [s["url"] for s in item.get("servers", [])] == ["http://127.0.0.1:9100"]
        if metrics and "metrics" not in yx.procs:
            continue
        base = yx.metrics_url if metrics else yx.url
        concrete = path.replace("/v1/departments/{id}/", "/v1/departments/fz-water/")
        for name, value in values.items():
            concrete = concrete.replace("{" + name + "}", value)
        for fmt in (["json", "xml"] if "{format}" in concrete else ["json"]):
            url = base(concrete.replace("{format}", fmt))
            headers = {"Authorization": f"Bearer {OP}"}
            if path == "/v1/stats":
                r = wait_for(lambda: (x := requests.get(url, headers=headers, timeout=10)).status_code == 200 and x,
                             what="stats")
            else:
                r = requests.get(url, headers=headers, timeout=10)
            assert r.status_code == 200, (url, r.text[:300])
            _check(doc, path, "get", r, fmt)
            calls += 1
    assert calls >= 14
    _check(doc, "/v1/cases/{id}", "get", yx.call("GET", "/v1/cases/350102-20000101-000001", OP))
    _check(doc, "/v1/cases", "get", yx.call("GET", "/v1/cases?limit=0", OP))
    _check(doc, "/open311/v2/requests/{service_request_id}.{format}", "get",
           requests.get(yx.url("/open311/v2/requests/350102-20000101-000001.json"), timeout=10))
