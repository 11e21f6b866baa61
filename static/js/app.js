// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", () => {
  // Move focus to the first invalid field so keyboard and screen-reader users land on the error.
  const invalid = document.querySelector(".is-invalid");
  if (invalid) invalid.focus();
});

// Print buttons (no inline handlers: the content security policy forbids them).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-action=print]")) window.print();
});
