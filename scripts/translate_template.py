"""Print template.yaml as CloudFormation will deploy it, for one set of parameter values.

Runs what CloudFormation runs on `sam deploy`: the AWS::LanguageExtensions transform (SAM CLI's
local implementation), then the SAM transform (samtranslator), with placeholder artifact URIs
where `sam build`/`sam package` would put real ones. Needs the aws-sam-cli venv:

    .venv-sam/bin/python scripts/translate_template.py AuthMode=JWT JwtIssuer=https://issuer JwtAudience=app
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from samcli.lib.cfn_language_extensions import process_template
from samcli.lib.cfn_language_extensions.resolvers.fn_sub import PLACEHOLDER_PATTERN, FnSubResolver
from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"


class NoManagedPolicies:
    """The template names no AWS managed policies, so nothing needs looking up in IAM."""

    def load(self) -> dict[str, str]:
        return {}


def _sub_keeping_what_deploy_resolves(self: FnSubResolver, value: dict[str, Any]) -> Any:
    """Fn::Sub as CloudFormation leaves it after the LanguageExtensions transform.

    SAM CLI's local resolver (1.170) substitutes what it knows (parameters, literal variables) and
    returns a plain string even when placeholders are left (`${ModelBucket}`, `${AWS::StackName}`,
    a variable whose value is `!GetAtt`, which it pastes in as Python text): the Fn::Sub was dropped.
    Here the known values are substituted and, if any placeholder is left, the result stays an
    Fn::Sub (with the variables it still needs); escapes (`${!x}`) are kept for CloudFormation.
    """
    text, variables = self._parse_args(self.get_function_args(value))
    variables = self._resolve_variable_map(variables)
    known = {k: v for k, v in variables.items() if not isinstance(v, dict | list)}

    def local(match: Any) -> str:
        name = str(match.group(1))
        resolved = None if name.startswith("!") else self._resolve_variable(name, known)
        return match.group(0) if resolved is None else self._value_to_string(resolved)

    text = PLACEHOLDER_PATTERN.sub(local, text)
    if not any(not m.group(1).startswith("!") for m in PLACEHOLDER_PATTERN.finditer(text)):
        return text.replace("${!", "${")  # fully resolved: what CloudFormation would substitute
    needed = {k: v for k, v in variables.items() if k not in known and "${" + k + "}" in text}
    return {"Fn::Sub": [text, needed] if needed else text}


FnSubResolver.resolve = _sub_keeping_what_deploy_resolves  # type: ignore[method-assign]


def with_artifacts(template: dict[str, Any]) -> dict[str, Any]:
    for res in template["Resources"].values():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::Serverless::Function":
            if props.get("PackageType") == "Image":
                props["ImageUri"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ocr:latest"
            else:
                props["CodeUri"] = "s3://artifacts/function.zip"
        elif res["Type"] == "AWS::Serverless::LayerVersion":
            props["ContentUri"] = "s3://artifacts/layer.zip"
        elif res["Type"] == "AWS::Serverless::Application":
            props["Location"] = "https://artifacts.s3.amazonaws.com/training-stack.yaml"
    return template


def translate(params: dict[str, str]) -> dict[str, Any]:
    expanded = process_template(yaml_parse(TEMPLATE.read_text()), parameter_values=params)
    expanded["Transform"] = "AWS::Serverless-2016-10-31"
    return dict(transform(with_artifacts(expanded), params, NoManagedPolicies()))


if __name__ == "__main__":
    import os

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # samtranslator wants a region for ARNs
    print(json.dumps(translate(dict(arg.split("=", 1) for arg in sys.argv[1:])), default=str))
