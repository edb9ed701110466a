"""What and where: the trained model for hotline text, keyword rules for clear
reports, confidence and alternatives on the case, the triage queue, `yxctl classify`
and `yx-train eval`."""
import json
import os
import re
import subprocess

from yxsys import ROOT

HOTLINE = "我是某小区业主，小区开发商交房后房屋墙体开裂漏水，多次找物业和开发商都不给维修，请相关部门督促解决"


def test_model_decides_hotline_text_with_confidence_and_alternatives(yx):
    r = yx.report(description=HOTLINE)
    assert r.status_code == 201, r.text
    case = yx.wait_state(r.json()["id"], "DISPATCHED")
    cl = case["classification"]
    assert cl["method"] in ("model", "rule")
    assert 0 < cl["confidence"] <= 1 and isinstance(cl["alternatives"], list)
    if cl["method"] == "model":
        assert cl["topic"] in ("城乡建设", "环境保护", "交通运输", "教育文体", "劳动和社会保障", "商贸旅游", "卫生计生")
    # a clear city-management report: the keyword rule wins
    rule = yx.wait_state(yx.report(description="路灯不亮了好几天，晚上很黑").json()["id"], "DISPATCHED")
    assert rule["classification"]["method"] == "rule" and rule["category"]["code"] == "0111"


def test_low_confidence_waits_for_triage(make_system):
    yx = make_system(settings={"classifier.min_confidence": 0.999})
    cid = yx.report(description="井盖坏了，路灯也不亮").json()["id"]   # two subcategories: confidence 0.5
    case = yx.wait_state(cid, "REGISTERED")
    assert case["triage"] == "low_confidence" and case["assignments"] == []
    assert yx.redis.zscore("yx:{350102}:q:triage", cid) is not None
    assert len(case["classification"]["alternatives"]) >= 1
    # the operator routes it
    r = yx.act(cid, "demo-operator-key", "reassign", department="fz-cgj")
    assert r.status_code == 200 and r.json()["state"] == "DISPATCHED", r.text
    assert yx.redis.zscore("yx:{350102}:q:triage", cid) is None


def test_outside_the_city_is_triaged_never_dropped(yx):
    cid = yx.report(description="路灯不亮", location={"lat": 39.9, "lon": 116.4}).json()["id"]
    case = yx.wait_state(cid, "REGISTERED")
    assert case["triage"] == "not_located" and case["location"]["located_by"] == "triage"


TOPICS = {"城乡建设": "2103", "环境保护": "2201", "交通运输": "2304", "教育文体": "2401", "劳动和社会保障": "2503",
          "商贸旅游": "2601", "卫生计生": "2701"}       # classifier.topics in config/yixian.cfg


def test_yxctl_classify(yx):
    def classify(text):
        out = subprocess.run([os.path.join(yx.bin, "yxctl"), "-c", yx.cfg_path, "classify", text],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)
    d = classify("请问新建的地铁线路什么时候开通运营")         # no keyword rule matches: the model decides
    assert d["method"] == "model" and TOPICS[d["topic"]] == d["code"]
    assert 0 < d["confidence"] <= 1 and "alternatives" in d
    d = classify("小区里多个井盖冒污水")
    assert (d["method"], d["code"], d["name"]) == ("rule", "0102", "污水井盖")


def test_yx_train_eval_prints_the_summary_line(yx, tmp_path):
    tsv = tmp_path / "tiny.tsv"
    tsv.write_text("id\tlabel\ttitle\ttext\n"
                   f"1\t城乡建设\t房屋漏水\t{HOTLINE}\n"
                   "2\t交通运输\t公交\t公交车长时间不来，线路调整后乘客等车很久，请交通部门调整班次\n"
                   "3\t教育文体\t入学\t孩子上小学的学位申请一直没有回复，学校说要等教育局通知\n", encoding="utf-8")
    out = subprocess.run([os.path.join(yx.bin, "yx-train"), "eval", "--model", os.path.join(ROOT, "config", "model.bin"),
                          "--data", str(tsv)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    last = out.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"macro_f1=\d\.\d{4} accuracy=\d\.\d{4} n=3", last), last
