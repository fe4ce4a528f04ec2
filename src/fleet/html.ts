// The fleet as one self-contained HTML page: no CDN, no external file, works from file://.
// Rows and timelines are rendered here (readable without JavaScript); a small inline script
// sorts (click a column heading) and filters (a state menu and a text box). Pure.
import { formatAge, STATES, TIMELINE_DAYS, type HostRow } from './state.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const COLOURS: Record<string, string> = { diverged: '#c62828', stale: '#ef6c00', 'never-pushed': '#6a1b9a', empty: '#607d8b', ok: '#2e7d32' };

function when(time: string | null, nowMs: number): string {
  if (!time) return '<span class="none">never</span>';
  return `<time datetime="${escapeHtml(time)}" title="${escapeHtml(time)}">${escapeHtml(formatAge(nowMs - Date.parse(time)))} ago</time>`;
}

/** 30 bars, oldest left; height by the day's commits relative to the host's busiest day. */
export function timelineSvg(days: number[]): string {
  const width = 4;
  const gap = 1;
  const height = 24;
  const max = Math.max(1, ...days);
  const bars = days.map((count, i) => {
    const h = count === 0 ? 1 : Math.max(3, Math.round((count / max) * height));
    const ago = days.length - 1 - i;
    const label = `${count} commit${count === 1 ? '' : 's'}, ${ago === 0 ? 'last 24 h' : `${ago}–${ago + 1} days ago`}`;
    return `<rect class="day${count ? ' active' : ''}" data-count="${count}" x="${i * (width + gap)}" y="${height - h}" width="${width}" height="${h}"><title>${label}</title></rect>`;
  });
  const total = days.length * (width + gap);
  return `<svg class="timeline" width="${total}" height="${height}" viewBox="0 0 ${total} ${height}" role="img" aria-label="commits per day, last ${TIMELINE_DAYS} days">${bars.join('')}</svg>`;
}

function row(r: HostRow, nowMs: number): string {
  const sortTime = (t: string | null): string => (t ? String(Date.parse(t)) : '0');
  const paths = r.paths.map((p) => `${escapeHtml(p.name)}${p.lastPush ? ` <small>${escapeHtml(formatAge(nowMs - Date.parse(p.lastPush)))}</small>` : ''}`).join(', ');
  const cells = [
    `<td data-sort="${escapeHtml(r.host)}">${escapeHtml(r.host)}</td>`,
    `<td data-sort="${STATES.indexOf(r.state)}"><span class="state" style="background:${COLOURS[r.state]}">${r.state}</span>${r.reasons.length ? `<div class="reasons">${r.reasons.map(escapeHtml).join('<br>')}</div>` : ''}</td>`,
    `<td data-sort="${sortTime(r.lastPush)}">${when(r.lastPush, nowMs)}</td>`,
    `<td data-sort="${sortTime(r.heartbeat)}">${when(r.heartbeat, nowMs)}</td>`,
    `<td data-sort="${escapeHtml(r.instance ?? '')}">${escapeHtml(r.instance ?? '')}</td>`,
    `<td data-sort="${escapeHtml(r.boot ?? '')}" title="${escapeHtml(r.boot ?? '')}">${escapeHtml((r.boot ?? '').slice(0, 8))}</td>`,
    `<td data-sort="${r.commits24h}" class="num">${r.commits24h}</td>`,
    `<td data-sort="${r.paths.length}">${paths}</td>`,
    `<td data-sort="${r.timeline.reduce((a, b) => a + b, 0)}">${timelineSvg(r.timeline)}</td>`,
  ];
  return `<tr data-state="${r.state}" data-host="${escapeHtml(r.host)}">${cells.join('')}</tr>`;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em;margin:0 0 .3em}
.summary span{margin-right:1em}
.controls{margin:1em 0}
.controls label{margin-right:1em}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{cursor:pointer;user-select:none;background:#f5f5f5;position:sticky;top:0}
th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}
.state{color:#fff;border-radius:3px;padding:1px 6px;font-size:.9em}
.reasons{color:#555;font-size:.85em;margin-top:2px;max-width:32em}
td:nth-child(n+3):nth-child(-n+7),th{white-space:nowrap}
.none{color:#999}
.num{text-align:right}
svg.timeline rect{fill:#ddd}
svg.timeline rect.active{fill:#1565c0}
`;

const SCRIPT = `
(function(){
  var table=document.getElementById('fleet');
  var body=table.tBodies[0];
  var stateFilter=document.getElementById('state-filter');
  var textFilter=document.getElementById('text-filter');
  var shown=document.getElementById('shown');
  function apply(){
    var state=stateFilter.value, text=textFilter.value.toLowerCase(), n=0;
    Array.prototype.forEach.call(body.rows,function(tr){
      var ok=(!state||tr.getAttribute('data-state')===state)&&(!text||tr.textContent.toLowerCase().indexOf(text)>=0);
      tr.hidden=!ok; if(ok)n++;
    });
    shown.textContent=n+' of '+body.rows.length+' hosts shown';
  }
  function sortBy(index,th){
    var asc=th.getAttribute('aria-sort')!=='ascending';
    Array.prototype.forEach.call(table.tHead.rows[0].cells,function(c){c.removeAttribute('aria-sort');});
    th.setAttribute('aria-sort',asc?'ascending':'descending');
    var rows=Array.prototype.slice.call(body.rows);
    rows.sort(function(a,b){
      var x=a.cells[index].getAttribute('data-sort'),y=b.cells[index].getAttribute('data-sort');
      var nx=Number(x),ny=Number(y);
      var c=(x!==''&&y!==''&&!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);
      return asc?c:-c;
    });
    rows.forEach(function(r){body.appendChild(r);});
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){th.addEventListener('click',function(){sortBy(i,th);});});
  stateFilter.addEventListener('change',apply);
  textFilter.addEventListener('input',apply);
  apply();
})();
`;

export function fleetHtml(rows: HostRow[], options: { master: string; nowMs: number; counts: Record<string, number> }): string {
  const generated = new Date(options.nowMs).toISOString();
  const summary = STATES.map((s) => `<span><span class="state" style="background:${COLOURS[s]}">${s}</span> ${options.counts[s] ?? 0}</span>`).join('');
  const heads = ['Host', 'State', 'Last push', 'Heartbeat', 'Instance', 'Boot', '24 h', 'Paths', `Last ${TIMELINE_DAYS} days`];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pacha fleet: ${escapeHtml(options.master)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>pacha fleet</h1>
<p>${rows.length} host${rows.length === 1 ? '' : 's'} on ${escapeHtml(options.master)}, read <time datetime="${generated}">${generated}</time></p>
<p class="summary">${summary}</p>
<div class="controls">
<label>State <select id="state-filter"><option value="">all</option>${STATES.map((s) => `<option value="${s}">${s}</option>`).join('')}</select></label>
<label>Filter <input id="text-filter" type="search" placeholder="host, instance, path…"></label>
<span id="shown"></span>
</div>
<table id="fleet">
<thead><tr>${heads.map((h) => `<th scope="col">${h}</th>`).join('')}</tr></thead>
<tbody>
${rows.map((r) => row(r, options.nowMs)).join('\n')}
</tbody>
</table>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
