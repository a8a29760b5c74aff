/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Cockpit page for siovd: every parent with what eats its pools, every
 * device, and the changes siovd offers. Everything comes from org.siov1's
 * objects through cockpit.dbus proxies (ObjectManager signals keep them
 * current: no polling); every change is the same D-Bus call siovctl makes,
 * so polkit decides and a refusal shows siovd's own message.
 */
(function () {
    "use strict";

    const _ = cockpit.gettext;
    const format = cockpit.format;

    const BUS = "org.siov1";
    const ROOT = "/org/siov1";
    /* Devices may have their own ObjectManager here (then the root's
     * GetManagedObjects leaves them out); paths stay the same. */
    const DEVICE_MANAGER = "/org/siov1/device";
    const IFACE_MANAGER = "org.siov1.Manager";
    const IFACE_PARENT = "org.siov1.Parent";
    const IFACE_TYPE = "org.siov1.Type";
    const IFACE_DEVICE = "org.siov1.Device";

    /* Beyond this many rows the table asks for a filter: a browser table of
     * 100k rows helps nobody. */
    const MAX_ROWS = 500;

    /* Properties each view shows itself; any other (added by newer siovd)
     * goes to the details list, formatted generically. */
    const SHOWN_PARENT = ["Name", "Kinds", "Driver", "Subsystem", "Resources", "HostUsage", "Netdevs",
        "TotalVFs", "NumVFs", "Broken"];
    const SHOWN_DEVICE = ["Uuid", "Kind", "Parent", "Type", "State", "Persistent", "Autostart", "VM",
        "Address", "HostUsed", "Driver"];

    /* The work-queue pool's users, in bar order (keys of Parent.Resources). */
    const POOL_SEGMENTS = [
        { key: "mdev-dwq", cls: "siov-seg-mdev", label: () => _("dedicated-WQ mdevs") },
        { key: "mdev-swq", cls: "siov-seg-mdev2", label: () => _("shared-WQ mdevs") },
        { key: "host-netdev", cls: "siov-seg-netdev", label: () => _("host netdevs") },
        { key: "host-wq", cls: "siov-seg-hostwq", label: () => _("host work queues") },
        { key: "free", cls: "siov-seg-free", label: () => _("free") },
    ];
    const HOST_USAGE_LABELS = {
        netdev: () => _("host netdevs"),
        "wq-kernel": () => _("kernel WQs"),
        "wq-user": () => _("user WQs"),
        "vf-host": () => _("host VFs"),
    };

    let client = null;
    let manager = {};            /* org.siov1.Manager's properties */
    let parents = {};
    let types = {};
    let devices = {};
    let siovdRunning = null;
    let loaded = false;
    let isAdmin = null;
    let vmNames = null;          /* libvirt's domains, or null without libvirt-dbus */
    const expanded = new Set();  /* device paths whose details row is open */
    let renderTimer = null;
    let missingDevices = null;   /* [shown, tracked] when the bridge got fewer devices than siovd has */

    /* --- small DOM helpers (no innerHTML: names come from sysfs) ------------ */

    function el(tag, attrs, ...children) {
        const e = document.createElement(tag);
        for (const [k, v] of Object.entries(attrs || {})) {
            if (v === undefined || v === null || v === false)
                continue;
            if (k === "class")
                e.className = v;
            else if (k === "text")
                e.textContent = v;
            else if (k.startsWith("on"))
                e.addEventListener(k.substring(2), v);
            else if (k === "width")
                e.style.width = v;    /* CSSOM: the CSP forbids style attributes */
            else
                e.setAttribute(k, v === true ? "" : String(v));
        }
        for (const c of children.flat()) {
            if (c === null || c === undefined || c === false)
                continue;
            e.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
        }
        return e;
    }

    function $(id) {
        return document.getElementById(id);
    }

    function byName(a, b) {
        return a < b ? -1 : a > b ? 1 : 0;
    }

    function valid(proxies) {
        return Object.values(proxies).filter(p => p.valid);
    }

    /* Any D-Bus value as one line of text, for properties this page does not know. */
    function formatValue(v) {
        if (v === null || v === undefined)
            return "";
        if (typeof v === "boolean")
            return v ? _("yes") : _("no");
        if (Array.isArray(v)) {
            if (v.length === 0)
                return "—";
            /* Structs arrive as arrays: a pair reads "name=value", a longer
             * record (e.g. a work queue) its fields in order. */
            return v.map(x => !Array.isArray(x) ? formatValue(x)
                : x.length === 2 ? x.map(formatValue).join("=") : "(" + x.map(formatValue).join(" ") + ")")
                    .join(", ");
        }
        if (typeof v === "object") {
            if ("v" in v && "t" in v)
                return formatValue(v.v);
            const keys = Object.keys(v).sort(byName);
            return keys.length ? keys.map(k => k + "=" + formatValue(v[k])).join(" ") : "—";
        }
        return String(v);
    }

    function detailsList(proxy, shown) {
        const rows = [];
        for (const name of Object.keys(proxy.data).sort(byName)) {
            if (shown.includes(name))
                continue;
            rows.push(el("dt", { text: name }), el("dd", { text: formatValue(proxy.data[name]) || "—" }));
        }
        return rows.length ? el("dl", { class: "siov-details" }, rows) : null;
    }

    /* --- alerts --------------------------------------------------------------- */

    /* The text siovd sent: its message already names the object and says
     * what to do next; the error name's last part tells which kind. */
    function errorText(err) {
        const name = err && err.name ? String(err.name) : "";
        const msg = err ? cockpit.message(err) : _("Unknown error");
        return name.startsWith("org.siov1.Error.") ? name.substring("org.siov1.Error.".length) + ": " + msg : msg;
    }

    function showAlert(kind, title, body) {
        const box = el("div", { class: "siov-alert siov-alert-" + kind, role: kind === "danger" ? "alert" : "status" },
                       el("button", {
                           type: "button", class: "siov-alert-close", "aria-label": _("Close"), text: "×",
                           onclick: ev => ev.target.parentNode.remove()
                       }),
                       el("strong", { class: "siov-alert-title", text: title }),
                       body ? el("div", { class: "siov-alert-body", text: body }) : null);
        const alerts = $("siov-alerts");
        alerts.insertBefore(box, alerts.firstChild);
        /* Keep a short history: the newest five. */
        while (alerts.children.length > 5)
            alerts.removeChild(alerts.lastChild);
        if (kind !== "danger")
            window.setTimeout(() => box.remove(), 15000);
        console.log("siov-alert " + kind + ": " + title + (body ? " — " + body : ""));
    }

    /* --- the model the views share --------------------------------------------- */

    function parentList() {
        return valid(parents).sort((a, b) => byName(a.Name, b.Name));
    }

    function typesOf(parentName) {
        return valid(types).filter(t => t.Parent === parentName)
                .sort((a, b) => byName(a.Id, b.Id));
    }

    /* mdevs that exist (active or both) per "parent\ntype". */
    function usedCounts() {
        const used = {};
        for (const d of valid(devices)) {
            if (d.Kind !== "mdev" || (d.State !== "active" && d.State !== "both"))
                continue;
            const k = d.Parent + "\n" + d.Type;
            used[k] = (used[k] || 0) + 1;
        }
        return used;
    }

    /* --- parents: cards with contention bars ------------------------------------ */

    /* A horizontal stacked bar: segments [{value, cls, label}] over total. */
    function bar(segments, total, attrs) {
        const b = el("div", Object.assign({ class: "siov-bar", role: "img" }, attrs || {}));
        const parts = [];
        for (const s of segments) {
            if (!s.value)
                continue;
            const pct = total > 0 ? (100 * s.value / total) : 0;
            b.appendChild(el("span", {
                class: "siov-seg " + s.cls, width: pct.toFixed(3) + "%",
                title: s.value + " " + s.label
            }));
            parts.push(s.value + " " + s.label);
        }
        b.setAttribute("aria-label", parts.join(", "));
        return b;
    }

    function typeRow(parent, t, used) {
        const avail = t.AvailableInstances || 0;
        const full = avail === 0;
        let segments;
        let total;
        let text;
        if (t.Kind === "vf") {
            /* VFs of the PF: siovd's (for VMs), the host's, and the free ones. */
            const hostVfs = (parent.HostUsage || {})["vf-host"] || 0;
            total = Math.max(parent.NumVFs || 0, hostVfs + avail);
            used = Math.max(0, total - hostVfs - avail);
            segments = [
                { value: used, cls: "siov-seg-mdev", label: _("for VMs") },
                { value: hostVfs, cls: "siov-seg-hostvf", label: _("used by the host") },
                { value: avail, cls: "siov-seg-avail", label: _("available") },
            ];
            text = format(_("$0 for VMs · $1 host · $2 available of $3 VFs"), used, hostVfs, avail, total);
        } else {
            total = used + avail;
            segments = [
                { value: used, cls: "siov-seg-mdev", label: _("in use") },
                { value: avail, cls: "siov-seg-avail", label: _("available") },
            ];
            text = format(_("$0 in use · $1 available"), used, avail);
        }
        const label = el("div", { class: "siov-type-label", title: [t.Id, t.Name, t.Description].filter(x => x).join("\n") },
                         el("span", { class: "siov-type-id", text: t.Id }),
                         t.Name ? el("span", { class: "siov-muted", text: " " + t.Name }) : null);
        const status = t.Broken
            ? el("span", { class: "siov-label siov-label-warning", title: t.Broken, text: _("broken") })
            : full ? el("span", { class: "siov-label siov-label-danger", text: _("full") }) : null;
        return el("div", {
            class: "siov-type" + (full ? " siov-type-full" : ""),
            "data-type": t.Id, "data-available": avail, "data-used": used
        },
                  label,
                  bar(segments, total, { class: "siov-bar" + (full ? " siov-bar-full" : "") }),
                  el("div", { class: "siov-type-text" }, el("span", { text: text }), status),
                  t.Broken ? el("div", { class: "siov-type-broken", text: t.Broken }) : null);
    }

    function parentCard(p, used) {
        const kinds = p.Kinds || [];
        const res = p.Resources || {};
        const host = p.HostUsage || {};
        const head = el("div", { class: "siov-card-head" },
                        el("h3", { class: "siov-card-title", text: p.Name }),
                        el("span", { class: "siov-kinds" }, kinds.map(k => el("span", { class: "siov-label siov-label-kind", text: k }))),
                        el("span", { class: "siov-muted siov-driver", text: p.Driver ? p.Driver : _("no driver") }));
        const body = [];

        if (p.Broken)
            body.push(el("div", { class: "siov-alert siov-alert-warning siov-inline", text: p.Broken }));

        if (res.total) {
            const segs = POOL_SEGMENTS.map(s => ({ value: res[s.key] || 0, cls: s.cls, label: s.label() }));
            body.push(el("div", { class: "siov-pool", "data-pool-total": res.total, "data-pool-free": res.free || 0 },
                         el("div", { class: "siov-pool-head" },
                            el("span", { class: "siov-strong", text: _("Work-queue pool") }),
                            el("span", { class: "siov-muted", text: format(_("$0 of $1 free"), res.free || 0, res.total) })),
                         bar(segs, res.total, { class: "siov-bar siov-bar-pool" }),
                         el("div", { class: "siov-pool-legend" },
                            segs.filter(s => s.value).map(s => el("span", { class: "siov-legend-item" },
                                                                 el("span", { class: "siov-swatch " + s.cls }),
                                                                 s.value + " " + s.label)))));
        }

        const tlist = typesOf(p.Name);
        if (tlist.length)
            body.push(el("div", { class: "siov-types" }, tlist.map(t => typeRow(p, t, used[p.Name + "\n" + t.Id] || 0))));
        else
            body.push(el("p", { class: "siov-muted", text: _("No types.") }));

        const hostKeys = Object.keys(host).sort(byName);
        if (hostKeys.length)
            body.push(el("div", { class: "siov-host-usage" },
                         el("span", { class: "siov-muted", text: _("Host uses:") }),
                         hostKeys.map(k => el("span", {
                             class: "siov-label" + (host[k] ? " siov-label-host" : ""), "data-host-usage": k,
                             text: (HOST_USAGE_LABELS[k] ? HOST_USAGE_LABELS[k]() : k) + " " + host[k]
                         }))));
        if ((p.Netdevs || []).length)
            body.push(el("div", { class: "siov-netdevs siov-muted", text: format(_("Netdevs: $0"), p.Netdevs.join(", ")) }));
        if (kinds.includes("sriov"))
            body.push(el("div", { class: "siov-muted", text: format(_("VFs: $0 enabled of $1"), p.NumVFs || 0, p.TotalVFs || 0) }));

        const extra = detailsList(p, SHOWN_PARENT.concat(["SysfsPath"]));
        body.push(el("details", { class: "siov-more" },
                     el("summary", { text: _("Details") }),
                     el("dl", { class: "siov-details" },
                        el("dt", { text: "SysfsPath" }), el("dd", { text: p.SysfsPath || "—" }),
                        el("dt", { text: "Subsystem" }), el("dd", { text: p.Subsystem || "—" })),
                     extra));

        const anyFull = tlist.some(t => !t.Broken && !t.AvailableInstances);
        return el("article", { class: "siov-card siov-parent" + (anyFull ? " siov-parent-contended" : ""), "data-parent": p.Name },
                  head, el("div", { class: "siov-card-body" }, body));
    }

    function renderLegend() {
        const items = [
            ["siov-seg-mdev", _("in use by devices")],
            ["siov-seg-netdev", _("host netdevs")],
            ["siov-seg-hostwq", _("host work queues")],
            ["siov-seg-hostvf", _("host VFs")],
            ["siov-seg-avail", _("available")],
        ];
        const legend = $("siov-legend");
        legend.textContent = "";
        for (const [cls, text] of items)
            legend.appendChild(el("span", { class: "siov-legend-item" }, el("span", { class: "siov-swatch " + cls }), text));
    }

    /* --- devices table ------------------------------------------------------------- */

    function stateLabel(state) {
        const text = { active: _("active"), defined: _("defined"), both: _("active, defined") }[state] || state;
        const cls = state === "defined" ? "siov-label" : "siov-label siov-label-ok";
        return el("span", { class: cls, text: text });
    }

    function actionButton(text, handler, attrs) {
        return el("button", Object.assign({ type: "button", class: "siov-btn siov-btn-secondary siov-btn-sm", text: text, onclick: handler }, attrs || {}));
    }

    function deviceActions(d) {
        const acts = [];
        const active = d.State === "active" || d.State === "both";
        const vf = d.Kind === "vf";
        if (d.State === "defined")
            acts.push(actionButton(_("Start"), () => simpleCall(d, "Start", [], "", format(_("Started $0"), d.Uuid)), { "data-action": "start" }));
        if (d.State === "both")
            acts.push(actionButton(_("Stop"), () => simpleCall(d, "Stop", [], "", format(_("Stopped $0"), d.Uuid)), { "data-action": "stop" }));
        if (d.VM)
            acts.push(actionButton(_("Unassign"), () => confirmUnassign(d), { "data-action": "unassign" }));
        else if (!vf || !d.HostUsed)
            acts.push(actionButton(_("Assign"), () => confirmAssign(d), { "data-action": "assign" }));
        if (!vf || (active && !d.HostUsed && d.Driver))
            acts.push(actionButton(vf ? _("Release") : _("Destroy"), () => confirmDestroy(d),
                                   { "data-action": "destroy", class: "siov-btn siov-btn-danger siov-btn-sm" }));
        return acts;
    }

    function deviceRow(d) {
        const vf = d.Kind === "vf";
        const defn = [];
        if (d.Persistent)
            defn.push(el("span", { class: "siov-label", text: _("persistent") }));
        if (d.Autostart)
            defn.push(el("span", { class: "siov-label siov-label-kind", text: _("autostart") }));
        if (vf && d.HostUsed)
            defn.push(el("span", { class: "siov-label siov-label-host", text: _("host") }));
        const open = expanded.has(d.path);
        const toggle = el("button", {
            type: "button", class: "siov-toggle", "aria-expanded": open ? "true" : "false",
            "aria-label": _("Details"), text: open ? "▾" : "▸",
            onclick: () => { if (expanded.has(d.path)) expanded.delete(d.path); else expanded.add(d.path); render() }
        });
        const ident = vf
            ? el("span", {}, el("span", { class: "siov-mono", text: d.Address }), el("span", { class: "siov-muted", text: " VF" }))
            : el("span", { class: "siov-mono", title: d.Uuid, text: d.Uuid });
        const row = el("tr", { "data-uuid": d.Uuid, "data-state": d.State, "data-vm": d.VM || "" },
                       el("td", {}, toggle, " ", ident),
                       el("td", { text: d.Parent }),
                       el("td", { text: d.Type }),
                       el("td", {}, stateLabel(d.State)),
                       el("td", { text: d.VM || "—" }),
                       el("td", {}, defn.length ? defn : el("span", { class: "siov-muted", text: "—" })),
                       el("td", { class: "siov-col-actions" }, deviceActions(d)));
        if (!open)
            return [row];
        const details = el("dl", { class: "siov-details" },
                           el("dt", { text: "Uuid" }), el("dd", { class: "siov-mono", text: d.Uuid }),
                           el("dt", { text: "Address" }), el("dd", { class: "siov-mono", text: d.Address || "—" }),
                           el("dt", { text: "Driver" }), el("dd", { text: d.Driver || "—" }));
        return [row, el("tr", { class: "siov-details-row" },
                        el("td", { colspan: 7 }, details, detailsList(d, SHOWN_DEVICE)))];
    }

    function renderDevices() {
        const body = $("siov-devices-body");
        const filter = $("siov-filter").value.trim().toLowerCase();
        const all = valid(devices).sort((a, b) =>
            byName(a.Parent, b.Parent) || byName(a.Kind, b.Kind) || byName(a.Type, b.Type) ||
            byName(a.Address || a.Uuid, b.Address || b.Uuid));
        const shown = filter
            ? all.filter(d => [d.Uuid, d.Address, d.Parent, d.Type, d.VM, d.State]
                    .some(s => s && String(s).toLowerCase().includes(filter)))
            : all;
        body.textContent = "";
        for (const d of shown.slice(0, MAX_ROWS))
            deviceRow(d).forEach(r => body.appendChild(r));
        if (shown.length === 0)
            body.appendChild(el("tr", {}, el("td", {
                colspan: 7, class: "siov-muted siov-empty-row",
                text: all.length ? _("No device matches the filter.")
                    : missingDevices ? _("siovd's device list did not reach this page (see above).") : _("No devices yet.")
            })));
        const note = $("siov-devices-note");
        note.hidden = shown.length <= MAX_ROWS;
        note.textContent = format(_("Showing $0 of $1 devices: use the filter to narrow the list."), MAX_ROWS, shown.length);
    }

    /* --- the whole page ------------------------------------------------------------- */

    function renderSummary() {
        const plist = parentList();
        const devs = valid(devices);
        const mdevs = devs.filter(d => d.Kind === "mdev").length;
        const full = valid(types).filter(t => !t.Broken && !t.AvailableInstances).length;
        const version = manager.Version || "";
        let text = format(cockpit.ngettext("$0 parent", "$0 parents", plist.length), plist.length) + " · " +
                   format(cockpit.ngettext("$0 mdev", "$0 mdevs", mdevs), mdevs) + " · " +
                   format(cockpit.ngettext("$0 VF", "$0 VFs", devs.length - mdevs), devs.length - mdevs);
        if (full)
            text += " · " + format(cockpit.ngettext("$0 type full", "$0 types full", full), full);
        if (version)
            text += " · siovd " + version;
        $("siov-summary").textContent = text;
    }

    /* What siovd says about itself (Manager properties a newer siovd may
     * have): a definitions store it cannot use, files it skipped. */
    function renderWarnings() {
        const box = $("siov-warnings");
        box.textContent = "";
        if (siovdRunning === false)
            return;
        const problem = manager.DefinitionsProblem;
        const skipped = manager.SkippedDefinitions || [];
        if (problem)
            box.appendChild(el("div", { class: "siov-alert siov-alert-warning", id: "siov-definitions-problem" },
                               el("strong", { class: "siov-alert-title", text: _("Persistent definitions are unavailable") }),
                               el("div", { class: "siov-alert-body", text: problem })));
        if (missingDevices)
            box.appendChild(el("div", { class: "siov-alert siov-alert-warning", id: "siov-devices-missing" },
                               el("strong", {
                                   class: "siov-alert-title",
                                   text: format(_("This page shows $0 of the $1 devices siovd tracks"), missingDevices[0], missingDevices[1])
                               }),
                               el("div", {
                                   class: "siov-alert-body",
                                   text: _("The device list is larger than one D-Bus message may be. \"siovctl list --parent PARENT\" lists them all.")
                               })));
        if (skipped.length)
            box.appendChild(el("div", { class: "siov-alert siov-alert-warning", id: "siov-definitions-skipped" },
                               el("strong", {
                                   class: "siov-alert-title",
                                   text: format(cockpit.ngettext("siovd skipped $0 definition file", "siovd skipped $0 definition files",
                                                                 skipped.length), skipped.length)
                               }),
                               el("ul", { class: "siov-alert-body" },
                                  skipped.slice(0, 10).map(([path, why]) => el("li", { text: path + ": " + why })))));
    }

    function render() {
        if (renderTimer) {
            window.clearTimeout(renderTimer);
            renderTimer = null;
        }
        const empty = $("siov-empty");
        const running = siovdRunning !== false;
        renderWarnings();
        if (!running || !loaded) {
            empty.hidden = false;
            $("siov-parents-section").hidden = true;
            $("siov-devices-section").hidden = true;
            $("siov-create-open").disabled = true;
            $("siov-empty-title").textContent = running ? _("Loading…") : _("siovd is not running");
            $("siov-empty-body").textContent = running
                ? ""
                : _("Start it with \"systemctl start siovd\" (or let D-Bus activation start it); this page updates when it appears.");
            $("siov-summary").textContent = "";
            document.body.setAttribute("data-siov-state", running ? "loading" : "no-siovd");
            return;
        }
        empty.hidden = true;
        $("siov-parents-section").hidden = false;
        $("siov-devices-section").hidden = false;
        $("siov-create-open").disabled = valid(types).length === 0;

        const used = usedCounts();
        const cards = $("siov-parents");
        cards.textContent = "";
        const plist = parentList();
        for (const p of plist)
            cards.appendChild(parentCard(p, used));
        if (plist.length === 0)
            cards.appendChild(el("p", { class: "siov-muted", text: _("siovd sees no parent: load an mdev parent driver or enable SR-IOV on a PF.") }));
        renderDevices();
        renderSummary();
        refreshCreateChoices();
        document.body.setAttribute("data-siov-state", "ready");
    }

    /* Bursts of signals (a create changes a type, a parent and adds a
     * device) become one render. */
    function scheduleRender() {
        if (!renderTimer)
            renderTimer = window.setTimeout(render, 20);
    }

    /* --- VMs: libvirt's list through libvirt-dbus when it is there ------------------ */

    function loadVms() {
        const lv = cockpit.dbus("org.libvirt", { bus: "system", superuser: "try" });
        lv.call("/org/libvirt/QEMU", "org.libvirt.Connect", "ListDomains", [0], { type: "u" })
                .then(([paths]) => Promise.all(paths.map(path =>
                    lv.call(path, "org.freedesktop.DBus.Properties", "Get", ["org.libvirt.Domain", "Name"], { type: "ss" })
                            .then(([v]) => v.v))))
                .then(names => {
                    vmNames = names.sort(byName);
                    console.log("siov: libvirt domains: " + vmNames.join(" "));
                    fillVmField("siov-create-vm-field", "siov-create-vm", true);
                })
                .catch(err => {
                    vmNames = null;
                    console.log("siov: no libvirt-dbus (" + cockpit.message(err) + "), VM is a text field");
                })
                .finally(() => lv.close());
    }

    /* A select of libvirt's domains, or a text field without libvirt-dbus. */
    function fillVmField(fieldId, inputId, optional) {
        const field = $(fieldId);
        const old = $(inputId) ? $(inputId).value : "";
        field.textContent = "";
        let input;
        if (vmNames) {
            input = el("select", { id: inputId, class: "siov-input" },
                       optional ? el("option", { value: "", text: _("None") }) : null,
                       vmNames.map(n => el("option", { value: n, text: n })));
            if (vmNames.includes(old))
                input.value = old;
        } else {
            input = el("input", {
                id: inputId, type: "text", class: "siov-input", autocomplete: "off", spellcheck: "false",
                placeholder: optional ? _("libvirt domain (optional)") : _("libvirt domain")
            });
            input.value = old;
        }
        field.appendChild(input);
    }

    /* --- create ------------------------------------------------------------------------ */

    function refreshCreateChoices() {
        const typeSel = $("siov-create-type");
        const parentSel = $("siov-create-parent");
        const oldType = typeSel.value;
        const oldParent = parentSel.value;
        const byType = {};
        for (const t of valid(types)) {
            if (t.Broken)
                continue;
            (byType[t.Id] = byType[t.Id] || []).push(t);
        }
        const ids = Object.keys(byType).sort(byName);
        typeSel.textContent = "";
        for (const id of ids) {
            const n = byType[id].reduce((s, t) => s + (t.AvailableInstances || 0), 0);
            typeSel.appendChild(el("option", { value: id, text: format(_("$0 ($1 available)"), id, n) }));
        }
        if (ids.includes(oldType))
            typeSel.value = oldType;
        const chosen = byType[typeSel.value] || [];
        parentSel.textContent = "";
        parentSel.appendChild(el("option", { value: "", text: _("Most room (siovd picks)") }));
        for (const t of chosen.sort((a, b) => byName(a.Parent, b.Parent)))
            parentSel.appendChild(el("option", { value: t.Parent, text: format(_("$0 ($1 available)"), t.Parent, t.AvailableInstances || 0) }));
        if (chosen.some(t => t.Parent === oldParent))
            parentSel.value = oldParent;
    }

    function openCreate() {
        $("siov-create-error").hidden = true;
        $("siov-create-uuid").value = "";
        $("siov-create-persistent").checked = false;
        $("siov-create-persistent").disabled = false;
        $("siov-create-autostart").checked = false;
        if ($("siov-create-vm"))
            $("siov-create-vm").value = "";
        fillVmField("siov-create-vm-field", "siov-create-vm", true);
        refreshCreateChoices();
        $("siov-create").showModal();
    }

    function busy(button, on) {
        button.disabled = on;
        button.classList.toggle("siov-btn-busy", on);
    }

    function submitCreate(ev) {
        ev.preventDefault();
        const type = $("siov-create-type").value;
        const parent = $("siov-create-parent").value;
        const vm = $("siov-create-vm").value.trim();
        const uuid = $("siov-create-uuid").value.trim();
        const autostart = $("siov-create-autostart").checked;
        const persistent = autostart || $("siov-create-persistent").checked;
        const options = {};
        if (persistent)
            options.persistent = cockpit.variant("b", true);
        if (autostart)
            options.autostart = cockpit.variant("b", true);
        if (vm)
            options.vm = cockpit.variant("s", vm);
        const submit = $("siov-create-submit");
        const errBox = $("siov-create-error");
        errBox.hidden = true;
        busy(submit, true);
        client.call(ROOT, IFACE_MANAGER, "CreateDevice", [parent, type, uuid, options], { type: "sssa{sv}" })
                .then(([path]) => {
                    $("siov-create").close();
                    const d = devices[path];
                    const where = d && d.valid ? d.Parent : (parent || _("the parent with the most room"));
                    const id = d && d.valid ? d.Uuid : path.substring(path.lastIndexOf("/") + 1);
                    showAlert("success", format(_("Created $0 on $1"), id, where), null);
                })
                .catch(err => {
                    errBox.textContent = errorText(err);
                    errBox.hidden = false;
                    console.log("siov-create-error: " + errorText(err));
                })
                .finally(() => busy(submit, false));
    }

    /* --- device actions ------------------------------------------------------------------ */

    function simpleCall(d, method, args, signature, okText) {
        return client.call(d.path, IFACE_DEVICE, method, args, { type: signature })
                .then(() => showAlert("success", okText, null))
                .catch(err => showAlert("danger", format(_("$0 of $1 failed"), method, d.Uuid), errorText(err)));
    }

    let confirmAction = null;

    function openConfirm(title, body, button, danger, withVm, action) {
        $("siov-confirm-title").textContent = title;
        $("siov-confirm-body").textContent = body;
        const submit = $("siov-confirm-submit");
        submit.textContent = button;
        submit.className = "siov-btn " + (danger ? "siov-btn-danger" : "siov-btn-primary");
        $("siov-confirm-vm-row").hidden = !withVm;
        if (withVm)
            fillVmField("siov-confirm-vm-field", "siov-confirm-vm", false);
        $("siov-confirm-error").hidden = true;
        confirmAction = action;
        $("siov-confirm").showModal();
    }

    function submitConfirm(ev) {
        ev.preventDefault();
        if (!confirmAction)
            return;
        const submit = $("siov-confirm-submit");
        busy(submit, true);
        confirmAction()
                .then(() => $("siov-confirm").close())
                .catch(err => {
                    const box = $("siov-confirm-error");
                    box.textContent = errorText(err);
                    box.hidden = false;
                    console.log("siov-confirm-error: " + errorText(err));
                })
                .finally(() => busy(submit, false));
    }

    function confirmDestroy(d) {
        const vf = d.Kind === "vf";
        const body = (vf
            ? format(_("$0 goes back to its PF's pool of free VFs."), d.Address)
            : format(_("$0 is removed, and so is its definition."), d.Uuid)) +
            (d.VM ? " " + format(_("Its hostdev is removed from $0."), d.VM) : "");
        openConfirm(vf ? _("Release VF?") : _("Destroy device?"), body, vf ? _("Release") : _("Destroy"), true, false,
                    () => client.call(d.path, IFACE_DEVICE, "Destroy", [{}], { type: "a{sv}" })
                            .then(() => showAlert("success", format(vf ? _("Released $0") : _("Destroyed $0"), vf ? d.Address : d.Uuid), null)));
    }

    function confirmAssign(d) {
        openConfirm(_("Assign to a VM"), format(_("$0 is added to the VM's definition (and live if it runs)."), d.Uuid),
                    _("Assign"), false, true,
                    () => {
                        const vm = $("siov-confirm-vm").value.trim();
                        if (!vm)
                            return Promise.reject(new Error(_("Choose a VM.")));
                        return client.call(d.path, IFACE_DEVICE, "Assign", [vm, {}], { type: "sa{sv}" })
                                .then(() => showAlert("success", format(_("Assigned $0 to $1"), d.Uuid, vm), null));
                    });
    }

    function confirmUnassign(d) {
        openConfirm(_("Unassign from its VM?"), format(_("$0 is removed from $1."), d.Uuid, d.VM), _("Unassign"), false, false,
                    () => client.call(d.path, IFACE_DEVICE, "Unassign", [{}], { type: "a{sv}" })
                            .then(() => showAlert("success", format(_("Unassigned $0"), d.Uuid), null)));
    }

    /* --- access ------------------------------------------------------------------------------ */

    function renderAccess() {
        const box = $("siov-access");
        box.hidden = isAdmin !== false;
        box.textContent = _("Limited access: reading works; siovd asks polkit for every change, and refuses it unless a polkit rule allows your user (see policy/org.siov1.rules.example).");
        document.body.setAttribute("data-siov-admin", String(isAdmin));
    }

    /* --- start ----------------------------------------------------------------------------------- */

    /* The Manager lives on the ObjectManager's own path, whose properties
     * Cockpit's bridge does not load (it only introspects a managed path):
     * read them with GetAll and follow PropertiesChanged. */
    function loadManager() {
        client.call(ROOT, "org.freedesktop.DBus.Properties", "GetAll", [IFACE_MANAGER], { type: "s" })
                .then(([props]) => {
                    manager = {};
                    for (const [k, v] of Object.entries(props))
                        manager[k] = v.v;
                    scheduleRender();
                })
                .catch(err => console.log("siov: cannot read the Manager's properties: " + cockpit.message(err)));
    }

    function watchManager() {
        client.subscribe({ path: ROOT, interface: "org.freedesktop.DBus.Properties", member: "PropertiesChanged" },
                         (path, iface, signal, [name, changed, invalidated]) => {
                             if (name !== IFACE_MANAGER)
                                 return;
                             for (const [k, v] of Object.entries(changed || {}))
                                 manager[k] = v.v;
                             if ((invalidated || []).length)
                                 loadManager();
                             scheduleRender();
                         });
        loadManager();
    }

    /* A device list too big for one bus message (LimitsExceeded) reaches
     * the bridge incomplete without telling the page: compare with siovd's
     * own count, where it has GetStatus (older siovd: UnknownMethod, and
     * the root's GetManagedObjects carries every device anyway). */
    function checkComplete(again) {
        client.call(ROOT, IFACE_MANAGER, "GetStatus", [], { type: "" })
                .then(([counts]) => {
                    const shown = valid(devices).length;
                    /* A device created meanwhile is on its way: ask once more. */
                    if (counts.devices > shown && again)
                        return void window.setTimeout(() => checkComplete(false), 2000);
                    missingDevices = counts.devices > shown ? [shown, counts.devices] : null;
                    if (missingDevices)
                        console.log("siov: showing " + shown + " of " + counts.devices + " devices");
                    scheduleRender();
                })
                .catch(err => console.log("siov: no device count from siovd: " + cockpit.message(err)));
    }

    function watchAll() {
        client = cockpit.dbus(BUS, { bus: "system", superuser: "try" });
        /* The whole namespace, whichever ObjectManager under /org/siov1
         * reports an object. Cockpit's bridge loads a namespace from the
         * GetManagedObjects of its root only, so the devices' own manager
         * is watched too (a harmless UnknownMethod where there is none). */
        parents = client.proxies(IFACE_PARENT, ROOT);
        types = client.proxies(IFACE_TYPE, ROOT);
        devices = client.proxies(IFACE_DEVICE, ROOT);
        const deviceWatch = client.watch({ path_namespace: DEVICE_MANAGER });
        for (const p of [parents, types, devices]) {
            p.addEventListener("added", scheduleRender);
            p.addEventListener("changed", scheduleRender);
            p.addEventListener("removed", (ev, proxy) => {
                expanded.delete(proxy.path);
                scheduleRender();
            });
        }
        watchManager();
        client.addEventListener("owner", (ev, owner) => {
            siovdRunning = !!owner;
            if (!owner)
                missingDevices = null;
            if (owner)
                loadManager();
            console.log("siov: org.siov1 " + (owner ? "owned by " + owner : "has no owner"));
            scheduleRender();
        });
        client.addEventListener("close", (ev, options) => {
            showAlert("danger", _("Lost the connection to the system bus"), cockpit.message(options));
        });
        Promise.allSettled([parents.wait(), types.wait(), devices.wait(), deviceWatch]).then(() => {
            loaded = true;
            checkComplete(true);
            console.log("siov: loaded " + valid(parents).length + " parents, " + valid(types).length + " types, " +
                        valid(devices).length + " devices");
            render();
        });
    }

    function init() {
        cockpit.translate();
        renderLegend();
        $("siov-create-open").addEventListener("click", openCreate);
        $("siov-create-form").addEventListener("submit", submitCreate);
        $("siov-create-cancel").addEventListener("click", () => $("siov-create").close());
        $("siov-create-type").addEventListener("change", refreshCreateChoices);
        $("siov-create-autostart").addEventListener("change", ev => {
            const p = $("siov-create-persistent");
            if (ev.target.checked)
                p.checked = true;
            p.disabled = ev.target.checked;
        });
        $("siov-confirm-form").addEventListener("submit", submitConfirm);
        $("siov-confirm-cancel").addEventListener("click", () => $("siov-confirm").close());
        $("siov-filter").addEventListener("input", renderDevices);

        const permission = cockpit.permission({ admin: true });
        permission.addEventListener("changed", () => {
            isAdmin = permission.allowed;
            renderAccess();
        });
        isAdmin = permission.allowed;
        renderAccess();

        watchAll();
        loadVms();
        render();
    }

    document.addEventListener("DOMContentLoaded", init);
}());
