// Copy Link: copy the portal URL and say so to screen readers too.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const status = button.parentElement.querySelector(".copy-status");
  try {
    await navigator.clipboard.writeText(button.dataset.copy);
    if (status) status.textContent = "Link copied.";
  } catch (error) {
    if (status) status.textContent = "Couldn't copy; select the address above and copy it.";
  }
});
