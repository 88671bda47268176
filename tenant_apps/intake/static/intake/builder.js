// The form builder: edits the definition as JSON in the page and posts it whole; the server
// checks it (definitions.clean_definition) and saves it as a new version.
(() => {
  const form = document.querySelector("form[data-builder]");
  if (!form) return;
  const state = JSON.parse(document.getElementById("builder-definition").textContent || "{}");
  const types = JSON.parse(document.getElementById("builder-types").textContent || "{}");
  state.questions = Array.isArray(state.questions) ? state.questions : [];
  const list = form.querySelector("[data-builder-list]");
  const announce = form.querySelector("[data-builder-announce]");
  const CHOICES = ["single_choice", "multiple_choice", "dropdown"];
  const SOURCES = ["single_choice", "multiple_choice", "dropdown", "yes_no", "scale"];
  const DISPLAY = ["heading", "instructions"];

  const top = (name) => form.querySelector(`[data-b="${name}"]`);
  top("title").value = state.title || "";
  top("kind").value = state.kind || "intake";
  top("description").value = state.description || "";
  top("countersign").checked = Boolean(state.countersign);
  top("scored").checked = Boolean(state.scoring && state.scoring.items && state.scoring.items.length);
  top("bands").value = ((state.scoring && state.scoring.bands) || [])
    .map((band) => `${band.min}-${band.max} ${band.label}`).join("\n");

  const newKey = () => `q_${Math.random().toString(36).slice(2, 10)}`;
  const optionsOf = (q) => {
    if (CHOICES.includes(q.type)) return q.options || [];
    if (q.type === "yes_no") return ["Yes", "No"];
    if (q.type === "scale") {
      const values = [];
      for (let n = Number(q.min ?? 0); n <= Number(q.max ?? 3); n += 1) values.push(String(n));
      return values;
    }
    return [];
  };
  const el = (tag, attrs = {}, children = []) => {
    const node = document.createElement(tag);
    Object.entries(attrs).forEach(([key, value]) => {
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, value === true ? "" : value);
    });
    children.forEach((child) => child && node.append(child));
    return node;
  };
  const field = (label, input) => el("div", { class: "field" }, [el("label", {}, [label, input])]);

  const move = (from, to, focus = true) => {
    if (to < 0 || to >= state.questions.length || from === to) return;
    const [item] = state.questions.splice(from, 1);
    state.questions.splice(to, 0, item);
    // A question can only depend on one above it: drop conditions that now point down.
    const seen = new Set();
    state.questions.forEach((q) => {
      if (q.show_if && !seen.has(q.show_if.question)) q.show_if = null;
      seen.add(q.key);
    });
    render();
    announce.textContent = `Question moved to position ${to + 1} of ${state.questions.length}.`;
    if (focus) list.children[to]?.querySelector(".builder-handle")?.focus();
  };

  let dragFrom = null;
  const render = () => {
    list.replaceChildren();
    state.questions.forEach((q, index) => {
      const item = el("li", { class: "builder-q", "data-index": index });
      const handle = el("button", {
        type: "button", class: "builder-handle", draggable: "true",
        "aria-label": `Question ${index + 1}: ${q.label || types[q.type]}. Press Alt and an arrow key to move.`,
        text: `⠿ ${index + 1}`,
        onkeydown: (event) => {
          if (!event.altKey) return;
          if (event.key === "ArrowUp") { event.preventDefault(); move(index, index - 1); }
          if (event.key === "ArrowDown") { event.preventDefault(); move(index, index + 1); }
        },
      });
      const typeSelect = el("select", { "aria-label": "Question type", onchange: (e) => { q.type = e.target.value; render(); } },
        Object.entries(types).map(([value, text]) => el("option", { value, selected: value === q.type, text })));
      item.append(el("div", { class: "builder-q-head" }, [
        handle, typeSelect,
        el("span", { class: "actions" }, [
          el("button", { type: "button", class: "link-button", text: "Move up", disabled: index === 0, onclick: () => move(index, index - 1) }),
          el("button", { type: "button", class: "link-button", text: "Move down", disabled: index === state.questions.length - 1, onclick: () => move(index, index + 1) }),
          el("button", { type: "button", class: "link-button", text: "Remove", onclick: () => {
            state.questions.splice(index, 1);
            state.questions.forEach((other) => { if (other.show_if && other.show_if.question === q.key) other.show_if = null; });
            render();
          } }),
        ]),
      ]));
      item.append(field(DISPLAY.includes(q.type) ? "Heading or title" : "Question", el("input", {
        type: "text", value: q.label || "", maxlength: 500, "data-field": "label",
        oninput: (e) => { q.label = e.target.value; },
      })));
      item.append(field(q.type === "instructions" ? "Text" : "Help text", el("textarea", {
        rows: q.type === "instructions" ? 4 : 2, oninput: (e) => { q.help = e.target.value; },
      }, [document.createTextNode(q.help || "")])));
      if (!DISPLAY.includes(q.type)) {
        item.append(el("label", { class: "checkbox" }, [
          el("input", { type: "checkbox", checked: Boolean(q.required), onchange: (e) => { q.required = e.target.checked; } }),
          " Required",
        ]));
      }
      if (CHOICES.includes(q.type)) {
        item.append(field("Options, one per line", el("textarea", {
          rows: 4, "data-field": "options",
          oninput: (e) => { q.options = e.target.value.split("\n").map((s) => s.trim()).filter(Boolean); },
        }, [document.createTextNode((q.options || []).join("\n"))])));
      }
      if (q.type === "scale" || q.type === "number") {
        if (q.type === "scale") { q.min = q.min ?? 0; q.max = q.max ?? 3; }
        item.append(el("div", { class: "builder-row" }, [
          field("Lowest", el("input", { type: "number", value: q.min ?? "", oninput: (e) => { q.min = e.target.value === "" ? null : Number(e.target.value); } })),
          field("Highest", el("input", { type: "number", value: q.max ?? "", oninput: (e) => { q.max = e.target.value === "" ? null : Number(e.target.value); } })),
        ]));
      }
      if (q.type === "scale") {
        item.append(field("Label for each point, one per line (optional)", el("textarea", {
          rows: 4, oninput: (e) => { q.scale_labels = e.target.value.split("\n").map((s) => s.trim()).filter(Boolean); },
        }, [document.createTextNode((q.scale_labels || []).join("\n"))])));
      }
      const earlier = state.questions.slice(0, index).filter((other) => SOURCES.includes(other.type));
      if (earlier.length && q.type !== "signature") {
        const source = earlier.find((other) => q.show_if && other.key === q.show_if.question);
        const sourceSelect = el("select", { "aria-label": "Show only when question", onchange: (e) => {
          q.show_if = e.target.value ? { question: e.target.value, value: optionsOf(earlier.find((o) => o.key === e.target.value))[0] || "" } : null;
          render();
        } }, [el("option", { value: "", text: "Always show" }),
          ...earlier.map((other) => el("option", { value: other.key, selected: source === other, text: `When “${other.label || other.key}” is…` }))]);
        const parts = [sourceSelect];
        if (source) {
          parts.push(el("select", { "aria-label": "Answer", onchange: (e) => { q.show_if.value = e.target.value; } },
            optionsOf(source).map((value) => el("option", { value, selected: value === q.show_if.value, text: value }))));
        }
        item.append(el("div", { class: "builder-row" }, parts));
      }
      // Drag by the handle; drop anywhere on another question.
      handle.addEventListener("dragstart", (event) => {
        dragFrom = index;
        item.classList.add("dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", String(index));
      });
      handle.addEventListener("dragend", () => item.classList.remove("dragging"));
      item.addEventListener("dragover", (event) => { event.preventDefault(); item.classList.add("drop-target"); });
      item.addEventListener("dragleave", () => item.classList.remove("drop-target"));
      item.addEventListener("drop", (event) => {
        event.preventDefault();
        item.classList.remove("drop-target");
        if (dragFrom !== null) move(dragFrom, index, false);
        dragFrom = null;
      });
      list.append(item);
    });
  };

  form.querySelector("[data-builder-add]").addEventListener("click", () => {
    const type = form.querySelector("[data-builder-add-type]").value;
    const question = { key: newKey(), type, label: "", help: "", required: false, show_if: null };
    if (CHOICES.includes(type)) question.options = ["Option 1", "Option 2"];
    if (type === "scale") Object.assign(question, { min: 0, max: 3, scale_labels: [] });
    state.questions.push(question);
    render();
    list.lastElementChild?.querySelector('[data-field="label"]')?.focus();
  });

  form.addEventListener("submit", () => {
    const bands = top("bands").value.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
      const match = line.match(/^(-?\d+)\s*-\s*(-?\d+)\s+(.+)$/);
      return match ? { min: Number(match[1]), max: Number(match[2]), label: match[3] } : { min: null, max: null, label: line };
    });
    const scaleKeys = state.questions.filter((q) => q.type === "scale").map((q) => q.key);
    const keptAlerts = ((state.scoring && state.scoring.alerts) || []).filter((a) => scaleKeys.includes(a.question));
    const output = {
      ...state,
      title: top("title").value,
      kind: top("kind").value,
      description: top("description").value,
      countersign: top("countersign").checked,
      scoring: top("scored").checked ? { items: scaleKeys, bands, alerts: keptAlerts } : null,
    };
    form.querySelector("[data-builder-output]").value = JSON.stringify(output);
  });
  render();
})();
