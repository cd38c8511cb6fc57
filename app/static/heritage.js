/* The relic page: the audio guide (an uploaded recording, or the browser's own speech synthesis reading the page's
   text in its language, with play and pause) and the 360° photo, a panorama the visitor drags around (pointer, touch
   or arrow keys). No inline code or style: CSP is script-src 'self', style-src 'self'. docs/decisions.md, "Heritage". */
(function () {
  "use strict";

  // ------------------------------------------------------------------------------------------ the audio guide
  function setupGuide(root) {
    var play = root.querySelector('[data-guide="play"]');
    var pause = root.querySelector('[data-guide="pause"]');
    var status = root.querySelector(".guide-status");

    function show(state) {
      root.dataset.state = state;
      status.textContent = status.dataset[state] || "";
      play.disabled = state === "playing" || state === "unavailable";
      pause.disabled = state !== "playing";
    }

    if (root.dataset.mode === "recording") {
      var audio = root.querySelector("audio");
      play.addEventListener("click", function () {
        var started = audio.play();
        if (started && started.catch) { started.catch(function () { show("unavailable"); }); }
      });
      pause.addEventListener("click", function () { audio.pause(); });
      audio.addEventListener("playing", function () { show("playing"); });
      audio.addEventListener("pause", function () { if (!audio.ended) { show("paused"); } });
      audio.addEventListener("ended", function () { show("ended"); });
      audio.addEventListener("error", function () { show("unavailable"); });
      return;
    }

    var synth = window.speechSynthesis;
    if (!synth || typeof window.SpeechSynthesisUtterance === "undefined") { show("unavailable"); return; }
    var speaking = false;

    function voiceFor(lang) {
      var voices = synth.getVoices() || [];
      for (var i = 0; i < voices.length; i++) {
        if (voices[i].lang && voices[i].lang.toLowerCase().indexOf(lang.slice(0, 2)) === 0) { return voices[i]; }
      }
      return null;
    }

    function pieces(text) {
      // Chromium stops long utterances after about 15 s: speak sentence by sentence.
      var parts = text.replace(/\s+/g, " ").match(/[^.!?…]+[.!?…]*/g) || [];
      return parts.map(function (p) { return p.trim(); }).filter(function (p) { return p.length > 0; });
    }

    play.addEventListener("click", function () {
      if (speaking && synth.paused) { synth.resume(); show("playing"); return; }
      synth.cancel();
      var queue = [];
      var blocks = document.querySelectorAll("[data-guide-text]");
      for (var i = 0; i < blocks.length; i++) {
        var lang = blocks[i].dataset.lang === "en" ? "en-US" : "vi-VN";
        pieces(blocks[i].textContent).forEach(function (piece) { queue.push([piece, lang]); });
      }
      if (!queue.length) { show("ended"); return; }
      speaking = true;
      queue.forEach(function (item, index) {
        var utterance = new window.SpeechSynthesisUtterance(item[0]);
        utterance.lang = item[1];
        var voice = voiceFor(item[1]);
        if (voice) { utterance.voice = voice; }
        if (index === queue.length - 1) {
          utterance.onend = function () { speaking = false; show("ended"); };
        }
        utterance.onerror = function (event) {
          if (event.error !== "interrupted" && event.error !== "canceled") { speaking = false; show("unavailable"); }
        };
        synth.speak(utterance);
      });
      show("playing");
    });
    pause.addEventListener("click", function () { synth.pause(); show("paused"); });
    window.addEventListener("pagehide", function () { synth.cancel(); });
  }

  // ------------------------------------------------------------------------------------------ the 360° photo
  function setupPanorama(root) {
    var canvas = root.querySelector("canvas");
    var context = canvas.getContext("2d");
    var image = new window.Image();
    var yaw = 0;      // the left edge of the view, as a share of the panorama's width (wraps around)
    var pitch = 0.5;  // the centre of the view, as a share of its height
    var zoom = 1;
    var drag = null;

    function view() {
      var height = image.height * 0.55 / zoom;
      var width = height * canvas.width / canvas.height;
      if (width > image.width) { width = image.width; height = width * canvas.height / canvas.width; }
      return { width: width, height: Math.min(height, image.height) };
    }

    function draw() {
      if (!image.width) { return; }
      var v = view();
      var top = Math.max(0, Math.min(image.height - v.height, pitch * image.height - v.height / 2));
      var left = (((yaw % 1) + 1) % 1) * image.width;
      var scale = canvas.width / v.width;
      var first = Math.min(v.width, image.width - left);
      context.drawImage(image, left, top, first, v.height, 0, 0, first * scale, canvas.height);
      if (first < v.width) {
        context.drawImage(image, 0, top, v.width - first, v.height, first * scale, 0, (v.width - first) * scale,
                          canvas.height);
      }
      root.dataset.yaw = (((yaw % 1) + 1) % 1).toFixed(4);
    }

    function resize() {
      var ratio = window.devicePixelRatio || 1;
      canvas.width = Math.max(1, Math.round(canvas.clientWidth * ratio));
      canvas.height = Math.max(1, Math.round(canvas.clientHeight * ratio));
      draw();
    }

    function turn(dx, dy) {
      var v = view();
      yaw += dx * v.width / image.width;
      pitch = Math.max(0, Math.min(1, pitch + dy * v.height / image.height));
      draw();
    }

    canvas.addEventListener("pointerdown", function (event) {
      drag = { x: event.clientX, y: event.clientY };
      canvas.setPointerCapture(event.pointerId);
      root.classList.add("dragging");
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drag || !image.width) { return; }
      turn(-(event.clientX - drag.x) / canvas.clientWidth, -(event.clientY - drag.y) / canvas.clientHeight);
      drag = { x: event.clientX, y: event.clientY };
    });
    function stop() { drag = null; root.classList.remove("dragging"); }
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    root.addEventListener("keydown", function (event) {
      var moves = { ArrowLeft: [-0.1, 0], ArrowRight: [0.1, 0], ArrowUp: [0, -0.1], ArrowDown: [0, 0.1] };
      if (moves[event.key]) {
        turn(moves[event.key][0], moves[event.key][1]);
      } else if (event.key === "+" || event.key === "=") {
        zoom = Math.min(3, zoom * 1.2); draw();
      } else if (event.key === "-") {
        zoom = Math.max(1, zoom / 1.2); draw();
      } else {
        return;
      }
      event.preventDefault();
    });
    image.addEventListener("load", function () { root.dataset.ready = "true"; resize(); });
    window.addEventListener("resize", resize);
    image.src = root.dataset.src;
  }

  var guide = document.querySelector(".audio-guide");
  if (guide) { setupGuide(guide); }
  var panoramas = document.querySelectorAll(".panorama[data-src]");
  for (var i = 0; i < panoramas.length; i++) { setupPanorama(panoramas[i]); }
}());
