#!/usr/bin/env python3
"""Lists stt's public API from rustdoc's JSON output, one item a line.

Usage: public_api.py target/doc/stt.json > listing

Walks the crate from its root module the way a user reaches items: through
public modules and re-exports, skipping what rustdoc hides (#[doc(hidden)]
items never reach the JSON). Prints every public module, type, trait,
function, method, constant, field and variant with a rendered signature,
and every trait a public type implements (derives included: removing one
breaks users too). Blanket and auto-trait impls are left out, they follow
from the rest. The output is sorted, so a diff shows exactly what changed.
"""
import json
import sys

d = json.load(open(sys.argv[1]))
idx = d["index"]
paths = d.get("paths", {})
out = set()


def item(i):
    return idx.get(str(i))


def path_name(i, fallback):
    p = paths.get(str(i))
    if p and p.get("crate_id") == 0:
        return "stt::" + "::".join(p["path"][1:]) if p["path"][0] == "stt" else "::".join(p["path"])
    if p:
        return "::".join(p["path"])
    return fallback


# Where each public item is reached from (filled by the walk); used to print
# types by the path a user names them with.
public_path = {}


def ty(t):
    if t is None:
        return "()"
    k, v = next(iter(t.items()))
    if k == "primitive":
        return v
    if k == "generic":
        return v
    if k == "resolved_path":
        name = public_path.get(v["id"]) or path_name(v["id"], v["path"])
        return name + args(v.get("args"))
    if k == "borrowed_ref":
        lt = (v["lifetime"] + " ") if v.get("lifetime") else ""
        return "&" + lt + ("mut " if v["is_mutable"] else "") + ty(v["type"])
    if k == "raw_pointer":
        return "*" + ("mut " if v["is_mutable"] else "const ") + ty(v["type"])
    if k == "slice":
        return "[" + ty(v) + "]"
    if k == "array":
        return "[" + ty(v["type"]) + "; " + v["len"] + "]"
    if k == "tuple":
        return "(" + ", ".join(ty(x) for x in v) + ")"
    if k == "impl_trait":
        return "impl " + " + ".join(bound(b) for b in v)
    if k == "dyn_trait":
        return "dyn " + " + ".join(
            (public_path.get(t["trait"]["id"]) or path_name(t["trait"]["id"], t["trait"]["path"]))
            + args(t["trait"].get("args"))
            for t in v["traits"]
        ) + ((" + " + v["lifetime"]) if v.get("lifetime") else "")
    if k == "qualified_path":
        return "<" + ty(v["self_type"]) + ">::" + v["name"]
    if k == "function_pointer":
        return "fn(" + ", ".join(ty(x[1]) for x in v["sig"]["inputs"]) + ") -> " + ty(v["sig"]["output"])
    return k


def args(a):
    if not a:
        return ""
    if "angle_bracketed" in a:
        parts = []
        for x in a["angle_bracketed"]["args"]:
            if "type" in x:
                parts.append(ty(x["type"]))
            elif "lifetime" in x:
                parts.append(x["lifetime"])
            elif "const" in x:
                parts.append(str(x["const"].get("expr", "_")))
        for c in a["angle_bracketed"].get("constraints", []):
            b = c.get("binding", {})
            if "equality" in b and "type" in b["equality"]:
                parts.append(c["name"] + " = " + ty(b["equality"]["type"]))
        return "<" + ", ".join(parts) + ">" if parts else ""
    if "parenthesized" in a:
        p = a["parenthesized"]
        return "(" + ", ".join(ty(x) for x in p["inputs"]) + ")" + (
            " -> " + ty(p["output"]) if p.get("output") else ""
        )
    return ""


def bound(b):
    if "trait_bound" in b:
        t = b["trait_bound"]["trait"]
        return (public_path.get(t["id"]) or path_name(t["id"], t["path"])) + args(t.get("args"))
    if "outlives" in b:
        return b["outlives"]
    return "?"


def generics(g):
    ps = []
    for p in g.get("params", []):
        k = p["kind"]
        if "lifetime" in k:
            ps.append(p["name"])
        elif "type" in k:
            bs = k["type"].get("bounds", [])
            if k["type"].get("is_synthetic"):
                continue
            ps.append(p["name"] + (": " + " + ".join(bound(b) for b in bs) if bs else ""))
        elif "const" in k:
            ps.append("const " + p["name"] + ": " + ty(k["const"]["type"]))
    return "<" + ", ".join(ps) + ">" if ps else ""


def fn_sig(name, f):
    h = f.get("header", {})
    pre = ("const " if h.get("is_const") else "") + ("async " if h.get("is_async") else "") + (
        "unsafe " if h.get("is_unsafe") else ""
    )
    ins = ", ".join(
        (n if n == "self" else n + ": ") + ("" if n == "self" else ty(t)) if n != "self" else render_self(t)
        for n, t in f["sig"]["inputs"]
    )
    o = f["sig"].get("output")
    return pre + "fn " + name + generics(f.get("generics", {})) + "(" + ins + ")" + (" -> " + ty(o) if o else "")


def render_self(t):
    k, v = next(iter(t.items()))
    if k == "generic" and v == "Self":
        return "self"
    if k == "borrowed_ref" and v["type"] == {"generic": "Self"}:
        return "&" + ("mut " if v["is_mutable"] else "") + "self"
    return "self: " + ty(t)


def marks(it):
    a = json.dumps(it.get("attrs", []))
    return "#[non_exhaustive] " if "non_exhaustive" in a else ""


def is_public(it):
    return it.get("visibility") == "public"


def walk_impls(owner, impls):
    for i in impls:
        im = item(i)
        if im is None:
            continue
        v = im["inner"]["impl"]
        if v.get("is_synthetic") or v.get("blanket_impl") is not None:
            continue
        if v.get("trait"):
            tr = v["trait"]
            tname = public_path.get(tr["id"]) or path_name(tr["id"], tr["path"])
            out.add("impl " + tname + args(tr.get("args")) + " for " + owner)
            continue
        for j in v["items"]:
            m = item(j)
            if m is None or not is_public(m):
                continue
            k, mv = next(iter(m["inner"].items()))
            if k == "function":
                out.add("pub " + fn_sig(owner + "::" + m["name"], mv))
            elif k == "assoc_const":
                out.add("pub const " + owner + "::" + m["name"] + ": " + ty(mv["type"]))
            else:
                out.add("pub " + k + " " + owner + "::" + m["name"])


seen = set()


def visit(i, where, alias=None):
    it = item(i)
    if it is None:
        return
    k, v = next(iter(it["inner"].items()))
    if k == "use":
        if v.get("id") is None:
            return
        if v["is_glob"]:
            target = item(v["id"])
            if target and "module" in target["inner"]:
                for j in target["inner"]["module"]["items"]:
                    visit(j, where)
            return
        visit(v["id"], where, v["name"])
        return
    if not is_public(it):
        return
    name = alias or it["name"]
    p = where + "::" + name
    if (i, p) in seen:
        return
    seen.add((i, p))
    public_path.setdefault(i, p)
    m = marks(it)
    if k == "module":
        out.add("pub mod " + p)
        for j in v["items"]:
            visit(j, p)
    elif k == "struct":
        out.add(m + "pub struct " + p + generics(v.get("generics", {})))
        kind = v["kind"]
        fields = []
        if "plain" in kind:
            fields = kind["plain"]["fields"]
        elif "tuple" in kind:
            fields = [f for f in kind["tuple"] if f is not None]
        for f in fields:
            fi = item(f)
            if fi and is_public(fi):
                out.add("pub field " + p + "::" + fi["name"] + ": " + ty(fi["inner"]["struct_field"]))
        walk_impls(p, v["impls"])
    elif k == "enum":
        out.add(m + "pub enum " + p + generics(v.get("generics", {})))
        for vi in v["variants"]:
            var = item(vi)
            vk = var["inner"]["variant"]["kind"]
            desc = ""
            if vk != "plain" and "tuple" in vk:
                desc = "(" + ", ".join(ty(item(f)["inner"]["struct_field"]) for f in vk["tuple"] if f is not None) + ")"
            elif vk != "plain" and "struct" in vk:
                desc = " { " + ", ".join(
                    item(f)["name"] + ": " + ty(item(f)["inner"]["struct_field"]) for f in vk["struct"]["fields"]
                ) + " }"
            out.add(marks(var) + "pub variant " + p + "::" + var["name"] + desc)
        walk_impls(p, v["impls"])
    elif k == "trait":
        out.add("pub trait " + p + generics(v.get("generics", {})))
        for j in v["items"]:
            ti = item(j)
            tk, tv = next(iter(ti["inner"].items()))
            if tk == "function":
                out.add("pub trait-fn " + fn_sig(p + "::" + ti["name"], tv))
            else:
                out.add("pub trait-" + tk + " " + p + "::" + ti["name"])
    elif k == "function":
        out.add("pub " + fn_sig(p, v))
    elif k == "constant":
        out.add("pub const " + p + ": " + ty(v["type"]))
    elif k == "type_alias":
        out.add("pub type " + p + " = " + ty(v["type"]))
    elif k == "static":
        out.add("pub static " + p + ": " + ty(v["type"]))
    else:
        out.add("pub " + k + " " + p)


# Two passes: the first names every item by its public path, the second
# renders signatures with those names.
for _ in range(2):
    out.clear()
    seen.clear()
    for j in item(d["root"])["inner"]["module"]["items"]:
        visit(j, "stt")

for line in sorted(out):
    print(line)
