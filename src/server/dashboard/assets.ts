/**
 * The dashboard's static assets: one HTML shell, one stylesheet, one script — no framework, no
 * build step, no third-party requests (CSP `default-src 'self'`). Everything shown is set with
 * `textContent`, never parsed as HTML, so unit names and event attributes cannot inject markup.
 */

export const LOGIN_HTML = (message: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kiboko — sign in</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/app.css"></head>
<body class="login"><main>
<h1>kiboko</h1>
<p>Paste the daemon's bearer token (the file <code>serve.token</code> in the state directory).</p>
<form method="post" action="/dashboard/login">
<label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button>
</form>
${message ? `<p class="error" role="alert" data-testid="login-error">${message}</p>` : ''}
</main></body></html>
`;

export const APP_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kiboko dashboard</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/app.css"></head>
<body>
<header>
  <h1>kiboko</h1>
  <span id="engine" data-testid="engine-status">engine: …</span>
  <span id="live" data-testid="live-status" class="off">events: connecting</span>
  <span id="action-status" data-testid="action-status" role="status"></span>
  <form method="post" action="/dashboard/logout"><button type="submit">Sign out</button></form>
</header>
<main>
  <section id="services-section" class="wide">
    <h2>Services <small>configured image vs running image, replicas and their last healthcheck</small></h2>
    <table data-testid="services"><thead><tr><th>Service</th><th>Configured image</th><th>Running image</th><th>Replicas</th><th>Health</th></tr></thead><tbody id="services"></tbody></table>
  </section>
  <section id="deploys-section">
    <h2>Deploys</h2>
    <table data-testid="deploys"><thead><tr><th>Revision</th><th>Project</th><th>When</th><th>Trigger</th><th>Outcome</th><th>Plan</th></tr></thead><tbody id="deploys"></tbody></table>
  </section>
  <section id="chaos-section" class="wide">
    <h2>Chaos experiments <small>daemon and CLI runs in this state directory</small></h2>
    <svg id="timeline" data-testid="chaos-timeline" width="100%" height="0" role="img" aria-label="chaos experiments on a timeline"></svg>
    <p id="chaos-empty" class="empty" hidden>No experiments yet.</p>
    <table data-testid="chaos"><thead><tr><th>Experiment</th><th>Source</th><th>Action</th><th>Containers</th><th>Time left</th><th>Started</th><th>Status</th><th></th></tr></thead><tbody id="chaos"></tbody></table>
  </section>
  <section id="watch-section" hidden>
    <h2>Registry watch</h2>
    <p id="watch-empty" class="empty" hidden>No watch pass yet.</p>
    <table data-testid="watch"><thead><tr><th>Pass</th><th>Checked</th><th>Newer</th><th>Updated</th><th>Rolled back</th><th>Failed</th><th>Skipped</th></tr></thead><tbody id="watch"></tbody></table>
    <h3>Latest pass</h3>
    <table data-testid="watch-items"><thead><tr><th>Watched</th><th>Image</th><th>Status</th><th>Newer image</th><th>Note</th></tr></thead><tbody id="watch-items"></tbody></table>
  </section>
  <section id="units-section">
    <h2>Units <small id="units-count" data-testid="units-count"></small></h2>
    <table data-testid="units"><thead><tr><th>Unit</th><th>Desired</th><th>Current</th><th>Machine</th><th>Note</th></tr></thead><tbody id="units"></tbody></table>
  </section>
  <section id="events-section">
    <h2>Live events <small id="events-shown" data-testid="events-shown"></small></h2>
    <div class="filters">
      <label>Project <select id="filter-project" data-testid="filter-project"><option value="">all</option></select></label>
      <label>Type <select id="filter-type" data-testid="filter-type"><option value="">all</option><option value="deploy">deploy</option><option value="chaos">chaos</option><option value="engine">engine</option><option value="unit">unit</option><option value="watch">watch</option></select></label>
      <label><input type="checkbox" id="filter-exec" data-testid="filter-exec"> healthcheck exec events</label>
    </div>
    <ol id="events" data-testid="events" reversed></ol>
  </section>
</main>
<dialog id="confirm" data-testid="confirm">
  <form method="dialog">
    <p id="confirm-message"></p>
    <p id="confirm-token-row"><label>Token <input type="password" id="confirm-token" data-testid="confirm-token" autocomplete="current-password"></label><br><small>The daemon's bearer token (<code>serve.token</code> in its state directory); kept in this page only.</small></p>
    <p id="confirm-error" class="error" role="alert"></p>
    <button value="cancel" data-testid="confirm-cancel">Cancel</button>
    <button value="ok" id="confirm-ok" data-testid="confirm-ok">Confirm</button>
  </form>
</dialog>
<script src="/dashboard/app.js"></script>
</body></html>
`;

export const APP_CSS = `
*{box-sizing:border-box}body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2327;background:#f6f7f7}
header{display:flex;gap:1.5em;align-items:center;padding:.6em 1.2em;background:#1d2327;color:#fff}
header h1{font-size:1.2em;margin:0}header form{margin-left:auto}
main{padding:1em 1.2em;display:grid;gap:1.2em;grid-template-columns:repeat(auto-fit,minmax(520px,1fr))}
section{background:#fff;border:1px solid #dcdcde;border-radius:6px;padding:.6em 1em;overflow:auto;max-height:60vh}
h2{font-size:1.05em;margin:.2em 0 .6em}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.25em .5em;border-bottom:1px solid #eee;vertical-align:top}
.state-launched,.state-running,.state-succeeded,.state-ok,.state-finished{color:#00794a}
.state-failed,.state-target-gone,.state-orphaned,.state-rolled-back,.state-error,.state-exited,.state-dead,.state-crashed,.state-cancelled,.state-rejected{color:#b32d2e}
.state-loaded,.state-inactive,.state-paused,.state-stopped,.state-queued,.state-not,.state-restarting,.state-created{color:#8a6d00}
.plan ul{margin:.3em 0;padding-left:1.2em}.plan li{font-family:ui-monospace,monospace;font-size:12px}.empty{color:#646970;margin:.2em 0}
#events li{font-family:ui-monospace,monospace;font-size:12px;border-bottom:1px dotted #eee}
.off{opacity:.6}.on{color:#7ad03a}details pre{white-space:pre-wrap;font-size:12px;margin:.3em 0}
body.login main{display:block;max-width:28em;margin:4em auto}.error{color:#b32d2e}
section.wide{grid-column:1/-1}#deploys td.state-running,#chaos td.state-running{color:#8a6d00;font-weight:600}h2 small{font-weight:normal;color:#646970}
td.image{font-family:ui-monospace,monospace;font-size:12px}tr.drift td.running-image{background:#fcf0f1}.marker{color:#b32d2e;font-weight:bold}
tr.project td{background:#f0f0f1;font-weight:600}button.action{margin-left:1em}ul.replicas{margin:.3em 0;padding-left:1.2em}
pre.hc{white-space:pre-wrap;font-size:11px;margin:.1em 0 .4em;color:#50575e}pre.hc.error{color:#b32d2e}progress{width:10em;display:block}
.progress-text{font-size:12px;color:#50575e}.filters{display:flex;gap:1em;margin-bottom:.4em;font-size:12px}#action-status.ok{color:#7ad03a}#action-status.error{color:#ff8085}
dialog{border:1px solid #dcdcde;border-radius:6px;max-width:32em}dialog::backdrop{background:rgba(0,0,0,.3)}
svg rect.running{fill:#dba617}svg rect.done{fill:#2271b1}svg rect.failed{fill:#b32d2e}svg text{font-size:10px;fill:#1d2327}svg text.axis{fill:#646970}svg line.axis{stroke:#dcdcde}
`;

export { APP_JS } from './app-js.js';
