/**
 * @module http-gateway/console-page
 * The console's page and style (docs/console.md): four views (Nodes, Groups, Act, Observe),
 * each a form and the place its answers go; the scripts (src/console, compiled to ES modules)
 * fill them in. Every form field has a place for its message next to it (`.field-error`), so bad
 * input is never an alert. Plain HTML and CSS, nothing from outside.
 */

const FIELD = (id: string, label: string, input: string): string =>
  `<label for="${id}">${label}</label>${input}<span class="field-error" id="${id}-error" role="alert"></span>`;

const NODES = `<section id="view-nodes" class="view" aria-label="Nodes">
<form id="nodes-form" class="controls" novalidate>
${FIELD('nodes-group', 'Group', '<input id="nodes-group" name="group" size="32">')}
${FIELD('nodes-query', 'Filter', '<input id="nodes-query" name="query" size="14" placeholder="rt=light">')}
${FIELD('nodes-wait', 'Wait (s)', '<input id="nodes-wait" name="wait" size="3">')}
${FIELD('nodes-rd', 'Resource directory', '<input id="nodes-rd" name="rd" size="24" placeholder="coap://127.0.0.7">')}
<button type="submit" id="nodes-discover">Discover</button>
</form>
<p class="commands" id="nodes-commands"></p>
<p id="nodes-status" class="status"></p>
<table id="nodes-table"><thead><tr><th>Node</th><th>Found by</th><th>Answered after</th><th>Links</th></tr></thead><tbody></tbody></table>
</section>`;

const GROUPS = `<section id="view-groups" class="view" aria-label="Groups" hidden>
<form id="groups-form" class="controls" novalidate>
${FIELD('groups-name', 'Group name (n)', '<input id="groups-name" name="n" size="16" placeholder="room3.lights">')}
${FIELD('groups-address', 'Group address (a)', '<input id="groups-address" name="a" size="22" placeholder="239.255.0.3:5683">')}
${FIELD('groups-index', 'Entry to change', '<input id="groups-index" name="index" size="4" placeholder="new">')}
<button type="submit" id="groups-apply">Apply to the nodes ticked</button><span class="field-error" id="groups-nodes-error" role="alert"></span>
<button type="button" id="groups-refresh">Read memberships</button>
</form>
<p class="commands" id="groups-commands"></p>
<table id="groups-table"><thead><tr><th></th><th>Node</th><th>Memberships (/coap-group)</th><th>Node's answer</th></tr></thead><tbody></tbody></table>
<h2>Resource directory</h2>
<form id="rd-form" class="controls" novalidate>
${FIELD('rd-name', 'Name (ep)', '<input id="rd-name" name="ep" size="14" placeholder="room3-lights">')}
${FIELD('rd-base', 'Base', '<input id="rd-base" name="base" size="22" placeholder="coap://239.255.0.3">')}
${FIELD('rd-sector', 'Sector (d)', '<input id="rd-sector" name="d" size="8" placeholder="room3">')}
${FIELD('rd-links', 'Links', '<input id="rd-links" name="links" size="18" value="&lt;/light&gt;;rt=light">')}
<button type="submit" id="rd-register">Register group</button>
</form>
<p class="commands" id="rd-commands"></p>
<p id="rd-status" class="status"></p>
<table id="rd-table"><thead><tr><th>Group</th><th>Base</th><th>Sector</th><th>Registration</th><th></th></tr></thead><tbody></tbody></table>
</section>`;

const ACT = `<section id="view-act" class="view" aria-label="Act" hidden>
<form id="act-form" class="controls" novalidate>
${FIELD('act-method', 'Method', '<select id="act-method" name="method"><option>GET</option><option>PUT</option><option>POST</option><option>DELETE</option></select>')}
${FIELD('act-uri', 'Group URI', '<input id="act-uri" name="uri" size="30">')}
${FIELD('act-payload', 'Payload', '<input id="act-payload" name="payload" size="12">')}
${FIELD('act-format', 'Content format', '<select id="act-format" name="format"><option value="text/plain;charset=utf-8">text/plain (0)</option><option value="application/json">application/json (50)</option><option value="application/link-format">application/link-format (40)</option><option value="application/octet-stream">application/octet-stream (42)</option></select>')}
${FIELD('act-wait', 'Wait (s)', '<input id="act-wait" name="wait" size="3">')}
<button type="submit" id="act-send">Send</button>
</form>
<p class="commands" id="act-commands"></p>
<p id="act-status" class="status"></p>
<div id="act-plot" class="plot"></div>
<p id="act-silent" class="silent"></p>
<table id="act-table"><thead><tr><th>Reply-From origin</th><th>Code</th><th>Payload</th><th>Delay</th></tr></thead><tbody></tbody></table>
</section>`;

const OBSERVE = `<section id="view-observe" class="view" aria-label="Observe" hidden>
<form id="observe-form" class="controls" novalidate>
${FIELD('observe-uri', 'Group or node URI', '<input id="observe-uri" name="uri" size="30">')}
${FIELD('observe-wait', 'For (s, groups)', '<input id="observe-wait" name="wait" size="3" value="60">')}
<button type="submit" id="observe-start">Observe</button>
<button type="button" id="observe-cancel" disabled>Cancel</button>
</form>
<p class="commands" id="observe-commands"></p>
<p id="observe-status" class="status"></p>
<table id="observe-table"><thead><tr><th>Node</th><th>Value</th><th>Notifications</th><th>Observe</th><th>Last after</th></tr></thead><tbody></tbody></table>
<ol id="observe-log" class="log"></ol>
</section>`;

/** The console's HTML page. */
export function consolePage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>coap-group console</title>
<link rel="stylesheet" href="console.css">
</head>
<body>
<header>
<h1>coap-group console</h1>
<nav id="tabs">
<button type="button" data-view="nodes" aria-current="page">Nodes</button>
<button type="button" data-view="groups">Groups</button>
<button type="button" data-view="act">Act</button>
<button type="button" data-view="observe">Observe</button>
</nav>
<span id="gateway"></span>
</header>
<main>
${NODES}
${GROUPS}
${ACT}
${OBSERVE}
</main>
<script type="module" src="main.js"></script>
</body>
</html>
`;
}

/** The console's style sheet. */
export const CONSOLE_CSS = `:root { font: 14px/1.4 system-ui, sans-serif; color: #1d2330; background: #f7f8fa; }
body { margin: 0; }
header { display: flex; gap: 1.5em; align-items: center; padding: .6em 1em; background: #1d2330; color: #fff; }
header h1 { font-size: 1.1em; margin: 0; }
nav button { background: none; color: #cfd6e4; border: 0; padding: .4em .8em; font: inherit; cursor: pointer; }
nav button[aria-current="page"] { color: #fff; border-bottom: 2px solid #5aa9ff; }
#gateway { margin-left: auto; font-size: .85em; color: #cfd6e4; }
main { padding: 1em; }
h2 { font-size: 1em; margin: 1.5em 0 .5em; }
.controls { display: flex; flex-wrap: wrap; gap: .4em .8em; align-items: center; }
.controls label { font-weight: 600; }
.field-error { color: #b3261e; font-size: .85em; }
.field-error:empty { display: none; }
input[aria-invalid="true"] { border-color: #b3261e; outline-color: #b3261e; }
.commands { font-family: ui-monospace, monospace; font-size: .85em; color: #3b4252; white-space: pre-wrap; }
.commands:not(:empty)::before { content: "$ "; color: #888; }
.status { color: #3b4252; }
table { border-collapse: collapse; width: 100%; margin-top: .5em; background: #fff; }
th, td { text-align: left; padding: .3em .6em; border-bottom: 1px solid #e3e6eb; vertical-align: top; }
th { background: #eef1f5; font-weight: 600; }
td.ms, td.count { text-align: right; font-variant-numeric: tabular-nums; }
.link { display: inline-block; margin: 0 .6em .2em 0; font-family: ui-monospace, monospace; font-size: .85em; }
.answer.ok { color: #1b6e2d; }
.answer.refused { color: #b3261e; font-weight: 600; }
.silent { color: #b3261e; }
.plot svg { background: #fff; border: 1px solid #e3e6eb; }
.plot .dot { fill: #2f6fd6; }
.plot .dot.error { fill: #b3261e; }
.plot .axis, .plot .grid { stroke: #9aa3b2; stroke-width: 1; }
.plot .grid { stroke-dasharray: 2 3; }
.plot text { font-size: 11px; fill: #3b4252; }
.log { font-family: ui-monospace, monospace; font-size: .85em; max-height: 16em; overflow: auto; }
`;
