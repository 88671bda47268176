// Sending forms: they go in the order they were ticked, shown as a numbered list.
(() => {
  const form = document.querySelector("form[data-send-forms]");
  if (!form) return;
  const list = form.querySelector("[data-send-order]");
  const boxes = [...form.querySelectorAll("[data-send-choice]")];
  const order = boxes.filter((box) => box.checked).map((box) => box.value);
  const render = () => {
    list.replaceChildren(...order.map((value) => {
      const item = document.createElement("li");
      item.textContent = boxes.find((box) => box.value === value).dataset.title;
      return item;
    }));
  };
  boxes.forEach((box) => box.addEventListener("change", () => {
    const at = order.indexOf(box.value);
    if (box.checked && at === -1) order.push(box.value);
    if (!box.checked && at !== -1) order.splice(at, 1);
    render();
  }));
  form.addEventListener("submit", () => {
    // The request body keeps field order: post the ticked forms in the order chosen.
    boxes.forEach((box) => box.removeAttribute("name"));
    order.forEach((value) => {
      const hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = "template";
      hidden.value = value;
      form.append(hidden);
    });
  });
  render();
})();
