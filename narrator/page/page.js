// narrator's listening pages: the player, seeking from chapters, scenes, the loudness picture
// and transcript sentences, the sentence being read highlighted, and the feed's copy button.
// Everything the page shows is in its HTML (data-t on what seeks): nothing is fetched, so it
// works from file:// as from any web server.
"use strict";
(() => {
  const audio = document.getElementById("audio");
  const copy = (button) => {
    const text = button.dataset.copy;
    const status = document.getElementById(button.getAttribute("aria-describedby"));
    const said = (ok) => { if (status) status.textContent = ok ? "Copied" : "Select it and copy"; };
    const fallback = () => {
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      let ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      area.remove();
      said(ok);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(() => said(true), fallback);
    } else {
      fallback();
    }
  };
  document.querySelectorAll("button[data-copy]").forEach((b) => b.addEventListener("click", () => copy(b)));
  if (!audio) return;

  const total = parseFloat(audio.dataset.duration) || 0;
  const player = document.querySelector(".player");
  const play = document.getElementById("play");
  const seek = document.getElementById("seek");
  const time = document.getElementById("time");
  const head = document.getElementById("playhead");
  const clock = (s) => {
    s = Math.max(0, Math.floor(s));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = String(s % 60).padStart(2, "0");
    return h || total >= 3600 ? `${h}:${String(m).padStart(2, "0")}:${r}` : `${m}:${r}`;
  };
  const length = () => (isFinite(audio.duration) && audio.duration > 0 ? audio.duration : total);
  const at = (list, t) => {  // the last of list whose data-t is at or before t
    let lo = 0, hi = list.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (parseFloat(list[mid].dataset.t) <= t + 0.001) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found >= 0 ? list[found] : null;
  };
  const cues = Array.from(document.querySelectorAll(".cue"));
  const chapters = Array.from(document.querySelectorAll(".chapters [data-t]"));
  const scenes = Array.from(document.querySelectorAll(".scenes [data-t]"));
  const current = new Map();
  const mark = (name, list, t, cls) => {
    const el = at(list, t);
    const was = current.get(name);
    if (el === was) return;
    if (was) { was.removeAttribute("aria-current"); if (cls) was.classList.remove(cls); }
    if (el) { el.setAttribute("aria-current", "true"); if (cls) el.classList.add(cls); }
    current.set(name, el);
  };
  let dragging = false;
  const update = () => {
    const t = audio.currentTime, d = length();
    time.textContent = `${clock(t)} / ${clock(d)}`;
    if (!dragging) seek.value = String(t);
    seek.setAttribute("aria-valuetext", `${clock(t)} of ${clock(d)}`);
    if (head && d > 0) { const x = String(Math.min(1000, (t / d) * 1000)); head.setAttribute("x1", x); head.setAttribute("x2", x); }
    mark("cue", cues, t, "active");
    mark("chapter", chapters, t);
    mark("scene", scenes, t);
  };
  const seekTo = (t) => { audio.currentTime = Math.min(Math.max(0, t), length()); update(); };
  // A chapter, scene, sentence or point of the picture: listen from there (the slider only seeks).
  const listenFrom = (t) => { seekTo(t); if (audio.paused) audio.play().catch(() => {}); };

  play.addEventListener("click", () => { if (audio.paused) audio.play().catch(() => {}); else audio.pause(); });
  audio.addEventListener("play", () => { player.classList.add("playing"); play.setAttribute("aria-label", "Pause"); });
  audio.addEventListener("pause", () => { player.classList.remove("playing"); play.setAttribute("aria-label", "Play"); });
  audio.addEventListener("loadedmetadata", () => { seek.max = String(length()); update(); });
  audio.addEventListener("timeupdate", update);
  audio.addEventListener("seeked", update);
  seek.addEventListener("input", () => { dragging = true; time.textContent = `${clock(+seek.value)} / ${clock(length())}`; });
  seek.addEventListener("change", () => { dragging = false; seekTo(parseFloat(seek.value)); });
  document.querySelectorAll("[data-t]").forEach((el) => {
    el.addEventListener("click", () => listenFrom(parseFloat(el.dataset.t)));
    if (el.classList.contains("cue")) {
      el.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); listenFrom(parseFloat(el.dataset.t)); }
      });
    }
  });
  const picture = document.querySelector(".loudness");
  if (picture) {
    picture.addEventListener("click", (ev) => {
      const box = picture.getBoundingClientRect();
      listenFrom(((ev.clientX - box.left) / box.width) * length());
    });
  }
  if ("mediaSession" in navigator && window.MediaMetadata) {
    navigator.mediaSession.metadata = new MediaMetadata({ title: audio.dataset.title || document.title, artist: audio.dataset.artist || "" });
  }
  update();
})();
