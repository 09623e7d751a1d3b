"""What `sam build` would need, checked without Docker: the template lints, every Dockerfile COPY
source exists, every handler imports, pins agree, and the OpenAPI contract matches the routes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import SPEC_FILE
from openapi_spec_validator import validate

import ocr_core
from functions.local_api import functions_from_template, load_template

REPO = Path(__file__).resolve().parents[1]
SAM = REPO / ".venv-sam" / "bin" / "sam"
DOCKERFILES = [REPO / "functions" / "Dockerfile", REPO / "training" / "Dockerfile"]


@pytest.mark.parametrize("args", [[], ["--lint"]], ids=["plain", "lint"])
def test_sam_validate(args: list[str]) -> None:
    """Plain `sam validate` lints too (samconfig.toml: lint = true), with no region or credentials."""
    assert SAM.exists(), "./dev.sh setup installs aws-sam-cli into .venv-sam"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    run = subprocess.run([str(SAM), "validate", *args], cwd=REPO, capture_output=True,
                         text=True, timeout=300, env={**env, "SAM_CLI_TELEMETRY": "0"})
    assert run.returncode == 0 and "is a valid SAM Template" in run.stdout, run.stdout + run.stderr
    assert "basic SAM Validation" not in run.stdout  # the linter ran, not only the transform


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(REPO)))
def test_dockerfile_copy_sources_exist(dockerfile: Path) -> None:
    copies = [line.split()[1:-1] for line in dockerfile.read_text().splitlines()
              if line.startswith("COPY") and "--from" not in line]
    assert copies
    for sources in copies:
        for src in sources:
            if src.startswith("--"):
                continue
            assert (REPO / src).exists(), f"{dockerfile.name}: COPY {src} does not exist in the build context"


def test_engine_image_installs_the_pinned_runtime_set() -> None:
    text = (REPO / "functions" / "Dockerfile").read_text()
    assert re.search(r"RUN .*requirements/install\.sh pip runtime", text)
    assert "FROM public.ecr.aws/lambda/python:3.11" in text
    install = (REPO / "requirements" / "install.sh").read_text()
    assert all("-c \"$here/constraints.txt\"" in line for line in install.splitlines() if "install -q" in line)
    runtime = (REPO / "requirements" / "runtime.txt").read_text()
    assert re.search(r"^onnxruntime\b", runtime, re.M)  # the serving runtime, and no TensorFlow in the serving set
    assert not re.search(r"^(tensorflow|tensorflow-cpu|keras|opencv-python|tf-keras)\s*$", runtime, re.M)
    assert re.search(r"^tensorflow-cpu\b", (REPO / "requirements" / "keras.txt").read_text(), re.M)


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s#]+)", line)
        if m:
            found[re.sub(r"[-_.]+", "-", m.group(1).split("[")[0]).lower()] = m.group(2)
    return found


def test_layer_pins_match_the_constraints() -> None:
    layer, constraints = pins(REPO / "layers" / "common" / "requirements.txt"), pins(REPO / "requirements" / "constraints.txt")
    assert layer and all(constraints.get(name) == version for name, version in layer.items()), (layer, constraints)


def test_every_function_handler_imports() -> None:
    """Zip handlers import with only the layer on the path; image handlers from the image's task root."""
    template = load_template()
    image_cmds = {r["Properties"]["ImageConfig"]["Command"][0] for r in template["Resources"].values()
                  if r.get("Type") == "AWS::Serverless::Function" and r["Properties"].get("PackageType") == "Image"}
    assert {"functions.api.app.handler", "functions.batch.app.handler"} <= image_cmds
    checks = []
    for name, res in template["Resources"].items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        props = res["Properties"]
        if props.get("PackageType") == "Image":
            handler, root = props["ImageConfig"]["Command"][0], REPO
        else:
            handler, root = props["Handler"], REPO / props["CodeUri"]
        checks.append((name, handler, root))
    for name, handler, root in checks:
        module, func = handler.rsplit(".", 1)
        code = f"import importlib; m = importlib.import_module({module!r}); assert callable(getattr(m, {func!r}))"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(REPO / "layers" / "common")]),
               "OCR_WARM_UP": "0", "UPLOAD_BUCKET": "b", "RESULTS_BUCKET": "results-bucket", "AWS_DEFAULT_REGION": "us-east-1"}
        run = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, f"{name}: {handler} does not import:\n{run.stderr[-3000:]}"




def test_openapi_file_is_what_the_code_declares() -> None:
    """functions/web/openapi.json (served at /api/docs) is what scripts/make_openapi.py makes from the resolvers."""
    run = subprocess.run([sys.executable, "scripts/make_openapi.py", "--check"], cwd=REPO, capture_output=True, text=True,
                         timeout=300, env={**os.environ, "OCR_WARM_UP": "0"})
    assert run.returncode == 0, run.stderr[-3000:]


def test_ocr_function_imports_without_models_when_warm_up_is_off() -> None:
    """OCR_WARM_UP=0 (as writing the spec sets it): importing the OCR function loads no model, so no TensorFlow."""
    code = "import sys, functions.api.app; assert 'tensorflow' not in sys.modules, 'TensorFlow was imported'"
    env = {**os.environ, "OCR_WARM_UP": "0", "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "layers" / "common")])}
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]


def test_versions_agree() -> None:
    import ocr_http

    spec = json.loads(SPEC_FILE.read_text())
    pyproject = re.search(r'^version = "(.+)"', (REPO / "pyproject.toml").read_text(), re.M)
    assert pyproject
    assert ocr_http.APP_VERSION == ocr_core.__version__ == spec["info"]["version"] == pyproject.group(1)


def test_openapi_matches_the_routes_and_the_template() -> None:
    import ocr_http

    spec = json.loads(SPEC_FILE.read_text())
    validate(spec)
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    declared = {(m, p) for p, ms in ocr_http.ROUTES.items() for m in ms}
    routed = {(m, p) for fn in functions_from_template(load_template()) for m, p in fn.routes if "{proxy+}" not in p}
    assert documented == declared == routed
    assert set(spec["components"]["securitySchemes"]) == {"iam", "jwt"} and spec["security"] == [{"iam": []}, {"jwt": []}]
    public = {(m.upper(), p) for p, ops in spec["paths"].items() for m, op in ops.items() if op.get("security") == [{}]}
    assert public == {("GET", "/"), ("GET", "/api/docs")}
    for path, ops in spec["paths"].items():  # every $ref resolves, every OCR route documents its body and errors
        for op in ops.values():
            for ref in re.findall(r'"\$ref": "#/components/schemas/(\w+)"', json.dumps(op)):
                assert ref in spec["components"]["schemas"], (path, ref)
            if path.startswith("/api/ocr"):
                assert "multipart/form-data" in op["requestBody"]["content"] and {"200", "400", "413", "415"} <= set(op["responses"])


PUBLIC_ROUTES = {("get", "/"), ("get", "/web/{proxy+}"), ("get", "/api/docs")}  # static content, never behind auth
AUTH_MODES = {
    "IAM": ("AuthMode=IAM", "AWS_IAM"),
    "JWT": ("AuthMode=JWT JwtIssuer=https://issuer.example.com JwtAudience=app-client", "JwtAuthorizer"),
    "NONE": ("AuthMode=NONE", None),
}


@pytest.mark.parametrize("mode", list(AUTH_MODES))
def test_template_translates_for_every_auth_mode(mode: str) -> None:
    """What CloudFormation deploys: LanguageExtensions then the SAM transform, per AuthMode value.
    `sam validate --lint` alone does not run the SAM translator."""
    params, authorizer = AUTH_MODES[mode]
    run = subprocess.run([str(REPO / ".venv-sam" / "bin" / "python"), "scripts/translate_template.py", *params.split()],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    resources = json.loads(run.stdout)["Resources"]
    api = next(r for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Api")
    security = {(path, method): op.get("security") for path, ops in api["Properties"]["Body"]["paths"].items()
                for method, op in ops.items()}
    for (path, method), sec in security.items():
        if method == "options" or (method, path) in PUBLIC_ROUTES:  # CORS preflight, the page, its assets, the docs
            assert sec in (None, [{"NONE": []}]), (path, sec)
        else:
            assert sec == ([{authorizer: []}] if authorizer else None), (path, method, sec)
    routes = {(m.upper(), p) for p, ms in __import__("ocr_http").ROUTES.items() for m in ms}
    assert routes <= {(m.upper(), p) for p, m in security}
    assert any(r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("PackageType") == "Image" for r in resources.values())


def test_template_bounds_what_callers_can_cost() -> None:
    """Issue 14: per-route throttles, reserved concurrency, log retention, least privilege, TLS-only queues."""
    import json

    def translated(*params: str) -> dict[str, Any]:
        run = subprocess.run([str(REPO / ".venv-sam" / "bin" / "python"), "scripts/translate_template.py", "AuthMode=NONE", *params],
                             cwd=REPO, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-3000:]
        return dict(json.loads(run.stdout)["Resources"])

    resources = translated()
    stage = next(r["Properties"] for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Stage")
    default_rate = stage["DefaultRouteSettings"]["ThrottlingRateLimit"]
    posts = {f"POST {p}" for p, ms in __import__("ocr_http").ROUTES.items() if "POST" in ms}
    assert set(stage["RouteSettings"]) == posts
    for key, limits in stage["RouteSettings"].items():
        assert 0 < limits["ThrottlingRateLimit"] < default_rate and limits["ThrottlingBurstLimit"] > 0, key
    assert stage["RouteSettings"]["POST /api/ocr/batch"]["ThrottlingRateLimit"] < stage["RouteSettings"]["POST /api/ocr"]["ThrottlingRateLimit"]

    functions = {k: r["Properties"] for k, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    # by default nothing reserved (a new account's limit is 10: any reservation fails its deploy); the README's overrides
    assert not [name for name, props in functions.items() if "ReservedConcurrentExecutions" in props]
    reserving = translated("OcrReservedConcurrency=10", "OcrBatchReservedConcurrency=4", "UploadsReservedConcurrency=2")
    assert {name: int(reserving[name]["Properties"].get("ReservedConcurrentExecutions", 0)) for name in
            ("OcrFunction", "OcrBatchFunction", "UploadsFunction")} == {"OcrFunction": 10, "OcrBatchFunction": 4, "UploadsFunction": 2}
    # each function logs to a log group the stack declares with retention, named per stack and never /aws/lambda/<fn>
    # (Lambda created those itself on stacks deployed before: declaring one fails the update)
    groups = {k: r["Properties"] for k, r in resources.items() if r["Type"] == "AWS::Logs::LogGroup"}
    names = []
    for name, props in functions.items():
        group = groups.get(props.get("LoggingConfig", {}).get("LogGroup", {}).get("Ref"))
        assert group and group["RetentionInDays"] > 0, f"{name} does not log to a declared log group with retention"
        log_group = group["LogGroupName"]["Fn::Sub"]
        assert "${AWS::StackName}" in log_group and not log_group.startswith("/aws/lambda/"), name
        names.append(log_group)
    assert len(set(names)) == len(functions) == 6

    health = resources["HealthFunctionRole"]["Properties"]
    statements = [s for p in health.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    # read-only, the registry's prefix of the model bucket only (MODEL_URI s3://${ModelBucket}/models, checked
    # below): the pointers and the served version's manifest and model file (sha256)
    assert actions == {"s3:GetObject"} and [s["Resource"] for s in statements] == [{"Fn::Sub": "${ModelBucket.Arn}/models/*"}]

    for queue in ("BatchQueue", "BatchDeadLetterQueue"):
        policies = [r["Properties"]["PolicyDocument"]["Statement"] for r in resources.values()
                    if r["Type"] == "AWS::SQS::QueuePolicy" and {"Ref": queue} in r["Properties"]["Queues"]]
        assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                   for statements in policies for s in statements), f"{queue} is not TLS-only"
    assert resources["UploadBucket"]["Properties"]["CorsConfiguration"]["CorsRules"][0]["AllowedMethods"] == ["POST"]


def test_upload_size_cap_is_the_engines_image_limit() -> None:
    import importlib

    from ocr_core import image_io

    uploads = importlib.import_module("functions.uploads.app")
    assert uploads.MAX_UPLOAD_BYTES == image_io.MAX_IMAGE_BYTES


BUILD_GRAPH = """
import json, sys, tempfile
from samcli.lib.build.app_builder import ApplicationBuilder
from samcli.lib.providers.provider import ResourcesToBuildCollector
from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider
stacks, _ = SamLocalStackProvider.get_stacks("template.yaml")
collector = ResourcesToBuildCollector()
collector.add_functions([f for f in SamFunctionProvider(stacks).get_all() if f.packagetype == "Image"])
with tempfile.TemporaryDirectory() as tmp:
    graph = ApplicationBuilder(collector, tmp, ".", tmp)._get_build_graph()
print(json.dumps([sorted(f.name for f in d.functions) for d in graph.get_function_build_definitions()]))
"""


def test_sam_build_makes_one_engine_image() -> None:
    """`sam build` groups functions by build definition: the TensorFlow functions share one image build."""
    run = subprocess.run([str(REPO / ".venv-sam" / "bin" / "python"), "-c", BUILD_GRAPH], cwd=REPO, capture_output=True,
                         text=True, timeout=300, env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"})
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == [["BatchFunction", "OcrBatchFunction", "OcrFunction"]]


def test_dockerignore_keeps_the_venvs_out_and_the_copied_sources_in() -> None:
    import fnmatch

    patterns = [p.strip().rstrip("/") for p in (REPO / ".dockerignore").read_text().splitlines() if p.strip() and not p.startswith("#")]
    ignored = lambda path: any(fnmatch.fnmatch(path, p) or path.startswith(p + "/") for p in patterns)  # noqa: E731
    assert all(ignored(p) for p in (".venv", ".venv-sam", ".git", ".aws-sam", "runs", "training/checkpoints"))
    for dockerfile in DOCKERFILES:
        for line in dockerfile.read_text().splitlines():
            if line.startswith("COPY") and "--from" not in line:
                for src in line.split()[1:-1]:
                    assert not ignored(src.rstrip("/")), f"{dockerfile.name}: COPY {src} is excluded by .dockerignore"


def translated(params: str = "AuthMode=IAM") -> dict:
    run = subprocess.run([str(REPO / ".venv-sam" / "bin" / "python"), "scripts/translate_template.py", *params.split()],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)["Resources"]


def test_alarms_and_dashboard_in_the_deployed_template() -> None:
    """API 5xx rate, function errors and throttles (every function), duration near each heavy function's timeout."""
    topic = "arn:aws:sns:us-east-1:123456789012:ops"
    resources = translated(f"AuthMode=IAM AlarmTopicArn={topic} BatchAlarmTopicArn={topic}")
    alarms = {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    functions = {name for name, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    assert {"HealthFunction", "UploadsFunction", "WebFunction", "OcrFunction", "OcrBatchFunction", "BatchFunction"} <= functions

    def stats(alarm: dict) -> list[dict]:
        return [m["MetricStat"]["Metric"] for m in alarm.get("Metrics", []) if "MetricStat" in m]

    rate = alarms["ApiServerErrorRateAlarm"]
    assert {(m["Namespace"], m["MetricName"]) for m in stats(rate)} == {("AWS/ApiGateway", "5xx"), ("AWS/ApiGateway", "Count")}
    assert all(m["Dimensions"][0] == {"Name": "ApiId", "Value": {"Ref": "OcrApi"}} for m in stats(rate))
    for name, metric in (("FunctionErrorsAlarm", "Errors"), ("FunctionThrottlesAlarm", "Throttles")):
        watched = {m["Dimensions"][0]["Value"]["Ref"] for m in stats(alarms[name]) if m["MetricName"] == metric}
        assert watched == functions, (name, functions - watched)
    for fn in ("OcrFunction", "OcrBatchFunction", "BatchFunction"):
        alarm = next(a for a in alarms.values() if a.get("MetricName") == "Duration" and a["Dimensions"][0]["Value"] == {"Ref": fn})
        assert alarm["Threshold"] == round(0.8 * resources[fn]["Properties"]["Timeout"] * 1000), fn
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [topic], alarm.get("AlarmDescription")
    body = resources["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "X", body))["widgets"]
    for fn, service in (("OcrFunction", "serverless-ocr"), ("OcrBatchFunction", "serverless-ocr"), ("BatchFunction", "ocr-batch")):
        assert f'"ColdStart", "function_name", "${{{fn}}}", "service", "{service}"' in body, f"no cold starts of {fn} on the dashboard"
    assert len(widgets) >= 8 and widgets[-1]["type"] == "alarm" and len(widgets[-1]["properties"]["alarms"]) == len(alarms)


def test_translated_template_keeps_every_fn_sub() -> None:
    """scripts/translate_template.py leaves what only CloudFormation can fill inside an Fn::Sub: SAM CLI's
    local LanguageExtensions turned them into literal text (MODEL_URI was the string 's3://${ModelBucket}/models',
    the dashboard held "{'Fn::GetAtt': ...}" as Python text)."""
    resources = translated()
    literal: list[str] = []

    def walk(value: Any, path: str, in_sub: bool) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}/{key}", in_sub or key == "Fn::Sub")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{path}/{i}", in_sub)
        elif isinstance(value, str) and "${" in value and not in_sub:
            literal.append(path)

    walk(resources, "", False)
    assert not literal, literal
    uris = {name: r["Properties"]["Environment"]["Variables"]["MODEL_URI"] for name, r in resources.items()
            if r["Type"] == "AWS::Lambda::Function" and "MODEL_URI" in r["Properties"].get("Environment", {}).get("Variables", {})}
    assert len(uris) >= 4 and all(uri == {"Fn::Sub": "s3://${ModelBucket}/models"} for uri in uris.values()), uris
    text, variables = resources["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert variables["BatchQueueName"] == {"Fn::GetAtt": ["BatchQueue", "QueueName"]} and "Fn::GetAtt" not in text
    assert "${BatchQueueName}" in text and "${AWS::Region}" in text


def test_wheel_carries_models_metadata_and_a_working_ocr(tmp_path: Path) -> None:
    """`pip install` of the project gives the models (package data), the licence, extras and a working `ocr`."""
    import zipfile

    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".venv*", ".git", "build", "*.egg-info", "__pycache__",
                                                             "runs", "tests", "benchmarks/reports", "events"))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                            str(tmp_path / "dist"), str(src)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-3000:]
    wheel = next((tmp_path / "dist").glob("ocr_service-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        zf.extractall(tmp_path / "site")
    for kind in ("printed", "handwritten"):
        assert {f"ocr_core/models/{kind}/model.keras", f"ocr_core/models/{kind}/manifest.json"} <= names
    assert "ocr_core/models/lexicon/en.txt" in names
    for package in ("ocr_core", "training", "functions"):  # pyproject lists packages explicitly: none forgotten
        missing = [p.relative_to(REPO).as_posix() for p in (REPO / package).rglob("*.py")
                   if p.relative_to(REPO).as_posix() not in names]
        assert not missing, missing
    assert any(n.endswith("licenses/LICENSE") for n in names) and any(n.endswith("licenses/NOTICE") for n in names)
    assert "Requires-Python: <3.14,>=3.11" in meta or "Requires-Python: >=3.11,<3.14" in meta
    assert "License-Expression: Apache-2.0" in meta
    assert {"serve", "train", "dev"} <= set(re.findall(r"^Provides-Extra: (\S+)", meta, re.M))
    assert re.search(r"^Requires-Dist: pypdfium2", meta, re.M) and re.search(r"^Requires-Dist: keras", meta, re.M)

    # installed elsewhere (no repository models/ beside it): the packaged models are found and read
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    env.pop("OCR_MODEL_DIR", None)
    code = ("import ocr_core, ocr_core.model_store as m; s = m.ModelStore(); "
            "print(ocr_core.__file__); print(s.root); print(s.manifest('printed')['version'])")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    where, root, version = run.stdout.split()
    assert where.startswith(str(tmp_path / "site")) and root == str(tmp_path / "site" / "ocr_core" / "models")
    assert version == json.loads((REPO / "models" / "printed" / "manifest.json").read_text())["version"]
    run = subprocess.run([sys.executable, "-m", "ocr_core", "--version"], capture_output=True, text=True, timeout=300,
                         env=env, cwd=tmp_path)
    assert run.returncode == 0 and run.stdout.strip() == f"ocr (ocr_core) {ocr_core.__version__}"


def test_the_layer_build_copies_the_vocabulary_link_as_a_file(tmp_path: Path) -> None:
    """layers/common/ocr_vocabulary.py links to ocr_core/vocabulary.py: the source-copy step of
    `sam build`'s python workflow (aws_lambda_builders CopySourceAction) must put the file itself in the layer."""
    code = ("import sys; from aws_lambda_builders.actions import CopySourceAction; "
            "CopySourceAction('layers/common', sys.argv[1]).execute()")
    run = subprocess.run([str(REPO / ".venv-sam" / "bin" / "python"), "-c", code, str(tmp_path / "layer")], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    copied = tmp_path / "layer" / "ocr_vocabulary.py"
    assert not copied.is_symlink() and copied.read_bytes() == (REPO / "ocr_core" / "vocabulary.py").read_bytes()
