// Wherry dashboard: filter, live updates from the event stream, relative times, and "Sync now".
// Plain JavaScript served by Wherry (no build, no CDN). Values from the server are set with textContent only.
"use strict";

(function () {
    const ACTIONS = ["created", "configured", "unchanged", "deleted", "skipped", "kept"];
    const main = document.getElementById("main");
    const live = document.getElementById("live");
    const page = main ? main.dataset.page : "";

    function ago(iso) {
        const time = Date.parse(iso);
        if (isNaN(time)) return "never";
        const seconds = Math.max(0, Math.floor((Date.now() - time) / 1000));
        if (seconds < 60) return seconds + "s ago";
        if (seconds < 3600) return Math.floor(seconds / 60) + "m ago";
        if (seconds < 86400) return Math.floor(seconds / 3600) + "h ago";
        return Math.floor(seconds / 86400) + "d ago";
    }

    function refreshAges() {
        for (const element of document.querySelectorAll("time[data-age]")) {
            if (element.dataset.age) element.textContent = ago(element.dataset.age);
        }
    }

    function summary(changes) {
        const parts = ACTIONS.filter((action) => changes && changes[action]).map((a) => changes[a] + " " + a);
        return parts.length ? parts.join(", ") : "no objects";
    }

    // An error as one line of at most 200 characters, as the server renders it.
    function oneLine(text) {
        const line = text.replace(/\s+/g, " ").trim();
        return line.length > 200 ? line.slice(0, 199) + "…" : line;
    }

    function setBadge(element, state, waitingFor) {
        if (!element) return;
        element.className = "badge state-" + state;
        element.textContent = state === "waiting" && waitingFor ? "waiting for " + waitingFor : state;
    }

    // --- Overview: filter -------------------------------------------------------------------------------------
    const rows = Array.from(document.querySelectorAll("#service-rows tr"));
    const byName = new Map(rows.map((row) => [row.dataset.service, row]));
    const filterName = document.getElementById("filter-name");
    const filterState = document.getElementById("filter-state");
    const filterCount = document.getElementById("filter-count");

    function applyFilter() {
        if (!filterName) return;
        const text = filterName.value.trim().toLowerCase();
        const state = filterState.value;
        let shown = 0;
        for (const row of rows) {
            const visible = (!text || row.dataset.service.toLowerCase().includes(text))
                && (!state || row.dataset.state === state);
            row.hidden = !visible;
            if (visible) shown += 1;
        }
        filterCount.textContent = shown + " shown";
    }

    if (filterName) {
        filterName.addEventListener("input", applyFilter);
        filterState.addEventListener("change", applyFilter);
        document.getElementById("filter").addEventListener("submit", (event) => event.preventDefault());
    }

    // --- Live updates -----------------------------------------------------------------------------------------
    function serviceURL(name) {
        return "/v1/gitops/services/" + encodeURIComponent(name);
    }

    async function refreshRow(name) {
        const row = byName.get(name);
        if (!row) return;
        const response = await fetch(serviceURL(name), { headers: { Accept: "application/json" } });
        if (!response.ok) return;
        const service = await response.json();
        row.dataset.state = service.state;
        setBadge(row.querySelector("[data-role=state]"), service.state, service.waiting_for);
        const revision = service.last_applied_revision || "";
        const cell = row.querySelector("[data-role=revision]");
        const code = document.createElement("code");
        code.textContent = revision.slice(0, 12);
        if (revision && row.dataset.commitBase) {
            const link = document.createElement("a");
            link.href = row.dataset.commitBase + revision;
            link.append(code);
            cell.replaceChildren(link);
        } else {
            cell.replaceChildren(code);
        }
        const applied = row.querySelector("[data-role=applied]");
        applied.dataset.age = service.last_applied_time || "";
        applied.setAttribute("datetime", service.last_applied_time || "");
        applied.textContent = ago(service.last_applied_time);
        row.querySelector("[data-role=changes]").textContent = summary(service.changes);
        row.querySelector("[data-role=drift]").textContent = String(service.drift_corrections);
        row.querySelector("[data-role=failures]").textContent = String(service.consecutive_failures);
        let error = row.querySelector("[data-role=error]");
        if (service.last_error) {
            if (!error) {
                error = document.createElement("span");
                error.className = "sub err";
                error.dataset.role = "error";
                row.querySelector("th").append(error);
            }
            error.textContent = oneLine(service.last_error);
        } else if (error) {
            error.remove();
        }
        applyFilter();
    }

    // The service page is re-read from the server and its main part swapped in: the server renders it, escaped.
    async function refreshServicePage() {
        const response = await fetch(location.pathname, { headers: { Accept: "text/html" } });
        if (!response.ok) return;
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("main");
        if (!fresh) return;
        const result = document.getElementById("sync-result");
        const kept = result ? result.textContent : "";
        main.replaceChildren(...fresh.childNodes);
        const newResult = document.getElementById("sync-result");
        if (newResult) newResult.textContent = kept;
        bindSync();
        refreshAges();
    }

    const pending = new Map();
    function later(key, action) {
        // Bursts of events for one service make one request.
        if (pending.has(key)) return;
        pending.set(key, setTimeout(() => { pending.delete(key); action().catch(() => {}); }, 150));
    }

    function onEvent(event) {
        let data;
        try { data = JSON.parse(event.data); } catch (error) { return; }
        if (page === "overview") {
            const row = byName.get(data.service);
            if (row && event.type === "state_changed") {
                row.dataset.state = data.state;
                setBadge(row.querySelector("[data-role=state]"), data.state, data.waiting_for);
                applyFilter();
            }
            if (event.type !== "reconcile_started") later(data.service, () => refreshRow(data.service));
        } else if (page === "service" && data.service === main.dataset.service) {
            if (event.type === "state_changed") setBadge(main.querySelector("h1 [data-role=state]"), data.state, data.waiting_for);
            if (event.type !== "reconcile_started") later("page", refreshServicePage);
        }
    }

    if (main && window.EventSource) {
        // From the event the page was rendered at: what happened since is replayed, nothing is missed.
        const after = main.dataset.lastEvent;
        const source = new EventSource("/v1/gitops/events" + (after ? "?after=" + encodeURIComponent(after) : ""));
        for (const type of ["reconcile_started", "reconcile_finished", "state_changed", "drift_corrected", "notification_failed"]) {
            source.addEventListener(type, onEvent);
        }
        // Events were missed (a restart, or too long away): the page is read again.
        source.addEventListener("reset", () => location.reload());
        source.addEventListener("open", () => { live.textContent = "live"; live.classList.add("on"); });
        source.addEventListener("error", () => { live.textContent = "reconnecting…"; live.classList.remove("on"); });
    }

    // --- Sync now ---------------------------------------------------------------------------------------------
    const TOKEN_KEY = "wherry.apiToken";

    async function sync(path, token) {
        const result = document.getElementById("sync-result");
        result.textContent = "Asking for a sync…";
        const response = await fetch(path, { method: "POST", headers: { Authorization: "Bearer " + token } });
        let message = "";
        try { message = (await response.json()).error?.message || ""; } catch (error) { message = ""; }
        if (response.status === 202) {
            result.textContent = "Sync queued.";
        } else if (response.status === 401) {
            sessionStorage.removeItem(TOKEN_KEY);
            result.textContent = "The token was refused: " + message;
            document.getElementById("token-form").hidden = false;
        } else {
            result.textContent = "Sync refused (" + response.status + "): " + message;
        }
    }

    function bindSync() {
        const button = document.getElementById("sync-now");
        const form = document.getElementById("token-form");
        if (!button || button.disabled || !form) return;
        button.addEventListener("click", () => {
            const token = sessionStorage.getItem(TOKEN_KEY);
            if (token) {
                sync(button.dataset.sync, token).catch((error) => {
                    document.getElementById("sync-result").textContent = "Sync failed: " + error;
                });
            } else {
                form.hidden = false;
                document.getElementById("token").focus();
            }
        });
        form.addEventListener("submit", (event) => {
            event.preventDefault();
            const token = document.getElementById("token").value;
            if (!token) return;
            sessionStorage.setItem(TOKEN_KEY, token);
            form.hidden = true;
            sync(button.dataset.sync, token).catch((error) => {
                document.getElementById("sync-result").textContent = "Sync failed: " + error;
            });
        });
    }

    bindSync();
    refreshAges();
    setInterval(refreshAges, 30000);
})();
