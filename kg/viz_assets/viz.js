/* kg graph page: builds the vis-network from the JSON data block and wires the controls.
 *
 * Safety rule: names, aliases, sentences, titles and URLs are untrusted web text. They reach
 * the page only through textContent and element properties; tooltips are DOM elements
 * (vis-network shows an element as it is), never HTML strings. Links are made only for
 * http(s) URLs and only in the details panel, where a person clicks them on purpose.
 */
(function () {
  "use strict";

  // Milestones in ms since navigation start, for benchmarks and the browser tests.
  const timings = {start: performance.now()};
  const data = JSON.parse(document.getElementById("kg-data").textContent);
  timings.parsed = performance.now();
  const byId = (id) => document.getElementById(id);
  const TIP_LIST_LIMIT = 5;
  const DETAILS_LIST_LIMIT = 100;
  const DIM_NODE = {
    color: {background: "#e4e4e4", border: "#f0f0f0",
            highlight: {background: "#e4e4e4", border: "#999999"},
            hover: {background: "#e4e4e4", border: "#999999"}},
    font: {color: "#c4c4c4"},
  };
  const DIM_EDGE = {color: {color: "#e8e8e8", highlight: "#e8e8e8", hover: "#e8e8e8", opacity: 0.5},
                    font: {color: "#d0d0d0"}};

  const nodeById = new Map(data.nodes.map((n) => [n.id, n]));
  const edgeById = new Map(data.edges.map((e) => [e.id, e]));
  const edgesOf = new Map(data.nodes.map((n) => [n.id, []]));
  for (const e of data.edges) {
    edgesOf.get(e.from).push(e.id);
    if (e.to !== e.from) edgesOf.get(e.to).push(e.id);
  }

  const state = {
    typeOn: new Map(data.types.map((t) => [t.name, true])),
    relationOn: new Map(data.relations.map((r) => [r.name, true])),
    minConfidence: 0,
    hiddenNodes: new Set(),
    hiddenEdges: new Set(),
    dimmedNodes: new Set(),
    dimmedEdges: new Set(),
    focus: null,
    physics: true,
    settledMs: null,
  };

  // --- safe DOM helpers ---------------------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function safeHref(url) {
    return typeof url === "string" && /^https?:\/\/[^\s]+$/i.test(url) ? url : null;
  }

  function formatConfidence(value) {
    return typeof value === "number" ? value.toFixed(2) : "unknown";
  }

  function addRow(dl, term, value) {
    if (value === undefined || value === null || value === "") return;
    dl.appendChild(el("dt", null, term));
    const dd = el("dd");
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = String(value);
    dl.appendChild(dd);
  }

  function list(items, limit, render) {
    const ul = el("ul");
    for (const item of items.slice(0, limit)) ul.appendChild(render(item));
    if (items.length > limit) ul.appendChild(el("li", "kg-meta", `and ${items.length - limit} more`));
    return ul;
  }

  function articleItem(key, full) {
    const article = data.articles[key] || {iri: key};
    const li = el("li");
    li.appendChild(el("span", null, article.title || article.id || article.iri));
    const meta = [article.issued, article.lang].filter(Boolean).join(" \u00b7 ");
    if (meta) li.appendChild(el("span", "kg-meta", ` (${meta})`));
    if (article.url) {
      li.appendChild(el("br"));
      const href = full ? safeHref(article.url) : null;
      if (href) {
        const a = el("a", "kg-meta", article.url);
        a.href = href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        li.appendChild(a);
      } else {
        li.appendChild(el("span", "kg-meta", article.url));
      }
    }
    return li;
  }

  // --- tooltips and details -----------------------------------------------------------------

  function describeNode(node, full) {
    const box = el("div", "kg-tip");
    box.appendChild(el("h3", null, node.name));
    const dl = el("dl");
    const typeText = node.kind === "Other" && node.classes.length
      ? `Other (${node.classes.join(", ")})` : node.kind;
    addRow(dl, "Type", typeText);
    if (node.aliases.length) addRow(dl, "Aliases", node.aliases.join(", "));
    addRow(dl, "Connections", node.degree);
    if (full) addRow(dl, "IRI", node.iri);
    const literals = full ? node.literals : node.literals.slice(0, TIP_LIST_LIMIT);
    for (const [name, value] of literals) addRow(dl, name, value);
    box.appendChild(dl);
    if (node.articles.length) {
      box.appendChild(el("div", "kg-meta", `Source articles (${node.articles.length})`));
      box.appendChild(list(node.articles, full ? DETAILS_LIST_LIMIT : TIP_LIST_LIMIT,
                           (key) => articleItem(key, full)));
    }
    return box;
  }

  function describeEdge(edge, full) {
    const box = el("div", "kg-tip");
    const from = nodeById.get(edge.from), to = nodeById.get(edge.to);
    const arrow = edge.symmetric ? " \u2194 " : " \u2192 ";
    box.appendChild(el("h3", null, `${from.name}${arrow}${edge.relation}${arrow}${to.name}`));
    const dl = el("dl");
    addRow(dl, "Relation", edge.relation);
    if (edge.confidence !== null || edge.evidence.length) {
      addRow(dl, "Confidence", formatConfidence(edge.confidence));
    }
    if (edge.roles.length) addRow(dl, edge.roles.length > 1 ? "Roles" : "Role", edge.roles.join("; "));
    if (full || !data.relations.some((r) => r.name === edge.relation && r.kg)) {
      addRow(dl, "Predicate", edge.predicate);
    }
    for (const [name, value] of edge.literals) addRow(dl, name, value);
    box.appendChild(dl);
    if (edge.evidence.length) {
      box.appendChild(el("div", "kg-meta", `Evidence (${edge.evidence.length})`));
      box.appendChild(list(edge.evidence, full ? DETAILS_LIST_LIMIT : 3, (ev) => {
        const li = el("li");
        li.appendChild(el("span", "kg-evidence", `\u201c${ev.sentence}\u201d`));
        const article = ev.article ? data.articles[ev.article] : null;
        const meta = [
          article ? (article.title || article.id || article.iri) : "",
          ev.rule ? `rule ${ev.rule}` : "",
          typeof ev.confidence === "number" ? `confidence ${formatConfidence(ev.confidence)}` : "",
          full && ev.lang ? `lang ${ev.lang}` : "",
          full && typeof ev.start === "number" ? `chars ${ev.start}\u2013${ev.end}` : "",
        ].filter(Boolean).join(" \u00b7 ");
        if (meta) li.appendChild(el("div", "kg-meta", meta));
        return li;
      }));
    }
    if (edge.articles.length) {
      box.appendChild(el("div", "kg-meta", `Articles (${edge.articles.length})`));
      box.appendChild(list(edge.articles, full ? DETAILS_LIST_LIMIT : TIP_LIST_LIMIT,
                           (key) => articleItem(key, full)));
    }
    return box;
  }

  function showDetails(content) {
    const panel = byId("kg-details");
    panel.replaceChildren(content);
  }

  function showDetailsHint() {
    showDetails(el("p", "kg-muted",
      "Click an entity to highlight its neighbourhood, or a fact to read its evidence."));
  }

  // --- the network --------------------------------------------------------------------------

  for (const n of data.nodes) n.title = describeNode(n, false);
  for (const e of data.edges) e.title = describeEdge(e, false);
  timings.tooltips = performance.now();
  const nodes = new vis.DataSet(data.nodes);
  const edges = new vis.DataSet(data.edges);
  const network = new vis.Network(byId("kg-network"), {nodes, edges}, data.options);
  timings.network = performance.now();
  const status = byId("kg-status");
  const physicsButton = byId("kg-physics");

  function setPhysics(on) {
    state.physics = on;
    network.setOptions({physics: {enabled: on}});
    physicsButton.textContent = on ? "Freeze layout" : "Unfreeze layout";
    physicsButton.setAttribute("aria-pressed", String(!on));
  }

  // Entities without any fact take no part in the physics: line them up below the rest.
  function placeLoners() {
    const loners = data.nodes.filter((n) => n.degree === 0);
    if (!loners.length) return;
    const others = network.getPositions(data.nodes.filter((n) => n.degree > 0).map((n) => n.id));
    const xs = Object.values(others).map((p) => p.x);
    const ys = Object.values(others).map((p) => p.y);
    const centre = xs.length ? (Math.min(...xs) + Math.max(...xs)) / 2 : 0;
    const top = ys.length ? Math.max(...ys) + 160 : 0;
    const longest = Math.max(...loners.map((n) => n.label.length));
    const gapX = Math.min(320, Math.max(110, 8 * longest + 24));
    const gapY = 90;
    const columns = Math.max(1, Math.ceil(Math.sqrt((loners.length * 4 * 110) / gapX)));
    const left = centre - ((Math.min(columns, loners.length) - 1) * gapX) / 2;
    // One DataSet update, not moveNode per node: each moveNode redraws the whole network.
    nodes.update(loners.map((n, i) => ({
      id: n.id, x: left + (i % columns) * gapX, y: top + Math.floor(i / columns) * gapY,
    })));
  }

  function settle() {
    if (state.settledMs === null) {
      placeLoners();
      // Fit again once drawn: label boxes are measured when drawing, after the move.
      network.once("afterDrawing", () => network.fit());
      network.fit();
      state.settledMs = performance.now();
      timings.settled = state.settledMs;
      window.__kgSettledMs = state.settledMs;
    }
    setPhysics(false);
    status.hidden = data.nodes.length > 0;
  }

  network.on("stabilizationProgress", (p) => {
    status.textContent = `Laying out\u2026 ${Math.round((100 * p.iterations) / p.total)}%`;
  });
  // Physics stops itself once the first layout has settled; after "Unfreeze" it stays on
  // (vis-network idles while nothing moves) until the person freezes it again.
  network.once("stabilizationIterationsDone", settle);
  if (!data.nodes.length) status.textContent = "Nothing to draw";
  // Without a single fact there is nothing for the physics to do (and vis-network then
  // never reports a finished stabilisation).
  if (!data.nodes.some((n) => n.degree > 0)) settle();
  physicsButton.addEventListener("click", () => setPhysics(!state.physics));
  byId("kg-fit").addEventListener("click", () => network.fit({animation: {duration: 400}}));

  // --- neighbourhood highlight --------------------------------------------------------------

  function restyle(dataSet, dimmed, wanted, dimStyle, base) {
    const changes = [];
    for (const id of dimmed) {
      if (!wanted.has(id)) { dimmed.delete(id); changes.push(base(id)); }
    }
    for (const id of wanted) {
      if (!dimmed.has(id)) { dimmed.add(id); changes.push(Object.assign({id}, dimStyle)); }
    }
    if (changes.length) dataSet.update(changes);
  }

  const baseNode = (id) => ({id, color: nodeById.get(id).color, font: {color: "#1a1a1a"}});
  const baseEdge = (id) => ({id, color: edgeById.get(id).color, font: edgeById.get(id).font});

  function highlight(id) {
    state.focus = id;
    const nearNodes = new Set([id]);
    const nearEdges = new Set();
    for (const eid of edgesOf.get(id) || []) {
      if (state.hiddenEdges.has(eid)) continue;
      const e = edgeById.get(eid);
      nearEdges.add(eid);
      nearNodes.add(e.from);
      nearNodes.add(e.to);
    }
    const dimNodes = new Set(data.nodes.filter((n) => !nearNodes.has(n.id)).map((n) => n.id));
    const dimEdges = new Set(data.edges.filter((e) => !nearEdges.has(e.id)).map((e) => e.id));
    restyle(nodes, state.dimmedNodes, dimNodes, DIM_NODE, baseNode);
    restyle(edges, state.dimmedEdges, dimEdges, DIM_EDGE, baseEdge);
  }

  function clearHighlight() {
    state.focus = null;
    restyle(nodes, state.dimmedNodes, new Set(), DIM_NODE, baseNode);
    restyle(edges, state.dimmedEdges, new Set(), DIM_EDGE, baseEdge);
  }

  network.on("click", (params) => {
    if (params.nodes.length) {
      const id = params.nodes[0];
      highlight(id);
      showDetails(describeNode(nodeById.get(id), true));
    } else if (params.edges.length) {
      showDetails(describeEdge(edgeById.get(params.edges[0]), true));
    } else {
      clearHighlight();
      showDetailsHint();
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      network.unselectAll();
      clearHighlight();
      showDetailsHint();
    }
  });

  // --- filters ------------------------------------------------------------------------------

  function visibleCounts() {
    return {
      nodes: nodes.length,
      edges: edges.length,
      visibleNodes: nodes.get({filter: (n) => !n.hidden}).length,
      visibleEdges: edges.get({filter: (e) => !e.hidden}).length,
    };
  }

  function showVisibleCounts() {
    const c = visibleCounts();
    byId("kg-visible").textContent =
      `Showing ${c.visibleNodes.toLocaleString("en")} of ${c.nodes.toLocaleString("en")} entities ` +
      `and ${c.visibleEdges.toLocaleString("en")} of ${c.edges.toLocaleString("en")} facts.`;
  }

  function toggle(hidden, id, hide, changes) {
    if (hide === hidden.has(id)) return;
    if (hide) hidden.add(id); else hidden.delete(id);
    changes.push({id, hidden: hide});
  }

  function applyFilters() {
    const nodeChanges = [];
    for (const n of data.nodes) toggle(state.hiddenNodes, n.id, !state.typeOn.get(n.kind), nodeChanges);
    const edgeChanges = [];
    for (const e of data.edges) {
      const hide = !state.relationOn.get(e.relation) ||
        (typeof e.confidence === "number" && e.confidence < state.minConfidence - 1e-9) ||
        state.hiddenNodes.has(e.from) || state.hiddenNodes.has(e.to);
      toggle(state.hiddenEdges, e.id, hide, edgeChanges);
    }
    if (nodeChanges.length) nodes.update(nodeChanges);
    if (edgeChanges.length) edges.update(edgeChanges);
    if (state.focus !== null) highlight(state.focus);
    showVisibleCounts();
  }

  function legendRow(container, swatch, name, count, dataKey, onChange) {
    const label = el("label");
    const box = el("input");
    box.type = "checkbox";
    box.checked = true;
    box.dataset[dataKey] = name;
    box.addEventListener("change", () => onChange(box.checked));
    label.append(box, swatch, el("span", "kg-name", name), el("span", "kg-count", count.toLocaleString("en")));
    container.appendChild(label);
    return box;
  }

  for (const t of data.types) {
    const swatch = el("span", `kg-swatch kg-shape-${t.shape}`);
    swatch.style.background = t.colour;
    legendRow(byId("kg-types"), swatch, t.name, t.count, "type", (on) => {
      state.typeOn.set(t.name, on);
      applyFilters();
    });
  }

  const relationBoxes = data.relations.map((r) => {
    const swatch = el("span", "kg-line");
    swatch.style.background = r.colour;
    return legendRow(byId("kg-relations"), swatch, r.name, r.count, "relation", (on) => {
      state.relationOn.set(r.name, on);
      applyFilters();
    });
  });
  if (!data.relations.length) byId("kg-relations").appendChild(el("p", "kg-muted kg-small", "No relations."));

  function setAllRelations(on) {
    for (const box of relationBoxes) box.checked = on;
    for (const r of data.relations) state.relationOn.set(r.name, on);
    applyFilters();
  }
  byId("kg-rel-all").addEventListener("click", () => setAllRelations(true));
  byId("kg-rel-none").addEventListener("click", () => setAllRelations(false));

  const slider = byId("kg-min-confidence");
  slider.addEventListener("input", () => {
    state.minConfidence = Number(slider.value);
    byId("kg-min-confidence-value").textContent = state.minConfidence.toFixed(2);
    applyFilters();
  });

  // --- search -------------------------------------------------------------------------------

  const names = new Set();
  for (const n of data.nodes) { names.add(n.name); for (const a of n.aliases) names.add(a); }
  const datalist = byId("kg-names");
  for (const name of [...names].sort((a, b) => a.localeCompare(b))) {
    const option = el("option");
    option.value = name;
    datalist.appendChild(option);
  }

  function findNode(query) {
    const q = query.trim().toLocaleLowerCase();
    if (!q) return null;
    const low = (s) => s.toLocaleLowerCase();
    const tests = [
      (n) => low(n.name) === q,
      (n) => n.aliases.some((a) => low(a) === q),
      (n) => low(n.iri) === q,
      (n) => low(n.name).startsWith(q),
      (n) => low(n.name).includes(q) || n.aliases.some((a) => low(a).includes(q)),
    ];
    for (const test of tests) {
      const hits = data.nodes.filter(test);
      if (hits.length) return hits.reduce((best, n) => (n.degree > best.degree ? n : best));
    }
    return null;
  }

  function focusNode(node) {
    network.selectNodes([node.id]);
    highlight(node.id);
    showDetails(describeNode(node, true));
    network.focus(node.id, {scale: Math.max(network.getScale(), 1.0),
                            animation: {duration: 400, easingFunction: "easeInOutQuad"}});
  }

  byId("kg-search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const query = byId("kg-search").value;
    const result = byId("kg-search-result");
    const node = findNode(query);
    if (!node) {
      result.textContent = query.trim() ? `No entity matches \u201c${query.trim()}\u201d.` : "";
      return;
    }
    const hiddenNote = state.hiddenNodes.has(node.id) ? " (hidden by the type filter)" : "";
    result.textContent = `Found ${node.name} (${node.kind})${hiddenNote}.`;
    focusNode(node);
  });

  showVisibleCounts();

  // A small handle for people debugging the page and for the browser tests.
  window.kgViz = {data, nodes, edges, network, visibleCounts, findNode, clearHighlight, timings,
                  settledMs: () => state.settledMs};
})();
