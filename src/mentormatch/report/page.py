"""The building blocks of the HTML report: its inline CSS and JS, number formatting for people,
tables that stack at phone width, and people shown by name, id, role and level."""
from __future__ import annotations

import html as _html
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CSS", "JS", "esc", "fmt", "table", "capped_note", "shown_of", "people", "labels", "who"]

CSS = """
*{box-sizing:border-box}
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:16px auto;max-width:1100px;
color:#1a202c;padding:0 12px;line-height:1.4;overflow-wrap:anywhere}
h1{font-size:24px;margin-bottom:4px}h2{font-size:19px;margin-top:30px;border-bottom:1px solid #e2e8f0;
padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}.sub{color:#4a5568;margin-top:0}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border-bottom:1px solid #e2e8f0;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f7fafc;white-space:nowrap;overflow-wrap:normal}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.flag td{background:#fffaf0}.flagtxt{color:#c05621;font-weight:600}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{background:#f7fafc;border:1px solid #e2e8f0;
border-radius:6px;padding:8px 12px;min-width:130px;flex:1 1 130px}.card b{display:block;font-size:20px}
.card span{font-size:12px;color:#4a5568}
.plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,460px),1fr));gap:12px}
.plots img,img.plot{width:100%;height:auto;border:1px solid #e2e8f0;border-radius:4px}img.plot{max-width:760px}
input.search{padding:6px 10px;width:100%;max-width:420px;border:1px solid #cbd5e0;border-radius:4px;margin:6px 0}
.note{color:#744210;background:#fffff0;padding:6px 10px;border-left:3px solid #d69e2e;margin:6px 0}
.pair{border:1px solid #e2e8f0;border-radius:6px;padding:8px 10px;margin:8px 0}
.pair .head{display:flex;flex-wrap:wrap;gap:4px 14px;align-items:baseline}
.who{min-width:0}.who small,.meta{color:#4a5568;font-size:12px}
.pair ul{margin:4px 0 4px 18px;padding:0;font-size:13px}
details>summary{cursor:pointer;color:#2b6cb0;margin:4px 0}
details.section>summary{font-size:15px;font-weight:600}
.roster{font-size:13px;margin:6px 0}.roster ul{margin:2px 0 2px 18px;padding:0}
.controls{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:6px 0}
button{padding:6px 12px;border:1px solid #2b6cb0;background:#ebf8ff;border-radius:4px;cursor:pointer}
pre.settings{white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px;background:#f7fafc;padding:8px;
border-radius:4px;max-width:100%}
dl.glossary dt{font-weight:600;margin-top:6px}dl.glossary dd{margin-left:14px}
td{overflow-wrap:normal}
@media (max-width:560px){table.stack thead{display:none}table.stack tr{display:block;border-bottom:1px solid #e2e8f0;
padding:4px 0}table.stack td{display:block;border:0;padding:1px 4px;text-align:left;white-space:normal;
overflow-wrap:anywhere}table.stack td[data-l]:before{content:attr(data-l) ": ";color:#4a5568;font-size:12px}
table.stack{width:100%}table.stack td:empty{display:none}}
@media print{details::details-content{content-visibility:visible;display:block}.noprint{display:none}body{max-width:none;margin:0}.pair{break-inside:avoid}}
"""

JS = r"""
function mmFilter(input, id){var q=input.value.toLowerCase();var items=document.getElementById(id).children;
var n=0;for(var r=0;r<items.length;r++){var it=items[r];var s=it.getAttribute('data-s');if(s===null)continue;
var show=s.indexOf(q)>=0;it.style.display=show?'':'none';if(show)n++;}
var c=document.getElementById(id+'-count');if(c)c.textContent=n;}
function mmCsv(v){v=String(v);return /[",\n\r]/.test(v)?'"'+v.replace(/"/g,'""')+'"':v;}
function mmDecisions(){var rows=['mentee_id,mentor_id,decision'];var n=0;
document.querySelectorAll('select.mm-dec').forEach(function(s){if(s.value){rows.push([mmCsv(s.getAttribute('data-e')),
mmCsv(s.getAttribute('data-m')),s.value].join(','));n++;}});
return {text:rows.join('\n')+'\n',count:n};}
function mmDownload(){var d=mmDecisions();var blob=new Blob([d.text],{type:'text/csv'});
var a=document.createElement('a');a.href=URL.createObjectURL(blob);a.download='decisions.csv';
document.body.appendChild(a);a.click();setTimeout(function(){URL.revokeObjectURL(a.href);a.remove();},0);}
function mmCount(){var d=mmDecisions();var c=document.getElementById('mm-dec-count');if(c)c.textContent=d.count;}
window.addEventListener('beforeprint',function(){document.querySelectorAll('details').forEach(function(d){d.open=true;});});
document.addEventListener('DOMContentLoaded',function(){
document.querySelectorAll('select.mm-dec').forEach(function(s){s.addEventListener('change',mmCount);});});
// ?mm-test: write what an automated check needs into the page (and to a parent frame)
window.addEventListener('load',function(){if(location.search.indexOf('mm-test')<0)return;
if(location.search.indexOf('mm-test-open')>=0)
 document.querySelectorAll('details').forEach(function(d){d.open=true;});
var imgs=document.querySelectorAll('img');var ok=0;imgs.forEach(function(i){if(i.complete&&i.naturalWidth>0)ok++;});
if(location.search.indexOf('mm-test-decide')>=0){var all=document.querySelectorAll('select.mm-dec');
if(all.length)all[0].value='accept';if(all.length>1)all[1].value='decline';}
var d=mmDecisions();var out={scrollWidth:document.documentElement.scrollWidth,clientWidth:document.documentElement.clientWidth,
images:imgs.length,imagesLoaded:ok,decisions:d.text,counted:(mmCount(),document.getElementById('mm-dec-count').textContent)};
new Blob([d.text],{type:'text/csv'}).text().then(function(t){out.blob=t;var r=JSON.stringify(out);
var p=document.createElement('pre');p.id='mm-test';p.textContent=r;document.body.appendChild(p);
if(window.parent!==window)window.parent.postMessage(r,'*');});});
"""


def esc(x: Any) -> str:
    return _html.escape(str(x), quote=True)


def fmt(v: Any, money: bool = False) -> str:
    """A number for people: thousands separated, no scientific notation; money to whole units.

    >>> fmt(105500.0), fmt(0.53219), fmt(3), fmt(105500.0, money=True), fmt(float("nan"))
    ('105,500', '0.532', '3', '105,500', '–')
    """
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if not np.isfinite(v):
            return "–"
        if money or abs(v) >= 1000:
            return f"{v:,.0f}"
        if v == round(v):
            return f"{int(round(v)):,}"
        return f"{v:,.3f}".rstrip("0").rstrip(".") if abs(v) < 10 else f"{v:,.1f}"
    return str(v)


def table(df: pd.DataFrame, table_id: str | None = None, money: tuple[str, ...] = (),
           flag: str | None = None, pct: tuple[str, ...] = ()) -> str:
    attrs = f' id="{esc(table_id)}"' if table_id else ""
    heads = {c: str(c).replace("_", " ") for c in df.columns}
    head = "".join(f"<th>{esc(heads[c])}</th>" for c in df.columns if c != flag)
    body = []
    flags = df[flag].to_numpy(bool) if flag else np.zeros(len(df), bool)
    for fl, row in zip(flags, df.itertuples(index=False)):
        cells = []
        for c, v in zip(df.columns, row):
            if c == flag:
                continue
            num = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
            text = (f"{float(v):.0%}" if c in pct and num and np.isfinite(v) else fmt(v, c in money))
            lab = f' data-l="{esc(heads[c])}"'
            cells.append(f'<td class="num"{lab}>{esc(text)}</td>' if num else f"<td{lab}>{esc(text)}</td>")
        body.append(('<tr class="flag">' if fl else "<tr>") + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table{attrs} class="stack"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")




def capped_note(shown: int, total: int, what: str, csv: str) -> str:
    """A visible note when a list shows only its first rows."""
    if shown >= total:
        return ""
    return (f'<p class="note">Showing the first {shown:,} of {total:,} {what}, in the order of {csv}; '
            f'the other {total - shown:,} are in {csv}. Search applies to the ones shown.</p>')


def shown_of(shown: int, total: int) -> str:
    return f" shown of {total:,}" if shown < total else ""


# ---------------------------------------------------------------------------------------------
# people: name, role and level beside the id
# ---------------------------------------------------------------------------------------------
def people(frame: pd.DataFrame | None, titles: dict | None = None) -> pd.DataFrame:
    """Index id; columns name, role (the framework's title where known), level, label
    ("Name (id · Role · level 2)"), all text ("" where unknown)."""
    if frame is None or "id" not in frame.columns:
        return pd.DataFrame(columns=["name", "role", "level", "label"])
    titles = titles or {}
    ids = frame["id"].astype(str)

    def text(col):
        if col not in frame.columns:
            return pd.Series([""] * len(frame), index=frame.index)
        return frame[col].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v))
                              else (f"{int(v)}" if isinstance(v, (float, np.floating)) and v == int(v)
                                    else str(v)).strip())

    name, role, level = text("name"), text("role"), text("level")
    role = role.map(lambda r: titles.get(r, r.replace("_", " ")))
    extra = [" · ".join(x for x in (i, r, f"level {lv}" if lv else "") if x)
             for i, r, lv in zip(ids, role, level)]
    label = [f"{n} ({x})" if n else x for n, x in zip(name, extra)]
    out = pd.DataFrame({"name": name.to_numpy(), "role": role.to_numpy(), "level": level.to_numpy(),
                        "label": label}, index=ids.to_numpy())
    return out[~out.index.duplicated()]


def labels(info: pd.DataFrame, ids: pd.Series) -> list[str]:
    ids = ids.astype(str)
    if not len(info):
        return ids.tolist()
    return info["label"].reindex(ids.to_numpy()).fillna(pd.Series(ids.to_numpy(), index=ids.to_numpy())).tolist()


def who(label: str, ident: str) -> str:
    """A person as HTML: the name in bold, the id, role and level in small print."""
    if label.endswith(")") and " (" in label and not label.startswith(ident + " "):
        name, rest = label.split(" (", 1)
        return f'<span class="who"><b>{esc(name)}</b> <small>({esc(rest)}</small></span>'
    return f'<span class="who"><b>{esc(label)}</b></span>'
