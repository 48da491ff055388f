// The cashier page (/points-de-vente/{slug}/caisse): where the browser offers
// the BarcodeDetector API (Chrome on Android, for one), a button reads a
// barcode with the camera, fills the code and sends the form. Elsewhere the
// page stays the plain form it is without JavaScript.
(function () {
  'use strict';
  var form = document.querySelector('form[data-barcode]');
  if (!form || !('BarcodeDetector' in window) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return;
  }
  var input = form.querySelector('input[name=q]');
  var button = document.createElement('button');
  button.type = 'button';
  button.textContent = 'Scanner un code-barres';
  form.appendChild(button);
  var video = document.createElement('video');
  video.setAttribute('playsinline', '');
  video.setAttribute('aria-label', 'Image de la caméra');
  video.muted = true;
  video.hidden = true;
  form.appendChild(video);
  var unavailable = function () {
    button.textContent = 'Caméra indisponible : tapez le code';
    button.disabled = true;
  };
  button.addEventListener('click', function () {
    var detector;
    try {
      detector = new window.BarcodeDetector({formats: ['ean_13', 'ean_8', 'upc_a']});
    } catch (e) {
      unavailable();
      return;
    }
    navigator.mediaDevices.getUserMedia({video: {facingMode: 'environment'}}).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      var tick = function () {
        detector.detect(video).then(function (codes) {
          if (codes.length) {
            stream.getTracks().forEach(function (t) { t.stop(); });
            video.hidden = true;
            input.value = codes[0].rawValue;
            form.submit();
            return;
          }
          window.setTimeout(tick, 200);
        }).catch(function () { window.setTimeout(tick, 500); });
      };
      tick();
    }).catch(unavailable);
  });
})();
