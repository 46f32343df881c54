// Each player says when its audio is ready (and how long it is), or that the
// file is missing, in its .clip-state (in the page's language: the unit from the
// page's data-seconds, the words after it from data-ready-suffix, data-missing).
document.querySelectorAll("audio").forEach((audio) => {
  const state = audio.parentElement.querySelector(".clip-state");
  audio.addEventListener("loadedmetadata", () => {
    state.dataset.state = "ready";
    state.textContent = audio.duration.toFixed(1) + " " + (document.body.dataset.seconds || "s") + (state.dataset.readySuffix || "");
  });
  audio.addEventListener("error", () => {
    state.dataset.state = "missing";
    state.textContent = state.dataset.missing || "audio missing";
  });
  // the audio may have loaded (or failed) before this script ran
  if (audio.error) audio.dispatchEvent(new Event("error"));
  else if (audio.readyState >= 1) audio.dispatchEvent(new Event("loadedmetadata"));
});
