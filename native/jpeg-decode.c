/*
 * fdk's exact JPEG decoder: a tiny N-API addon around the system libjpeg-turbo, decoding the way
 * cv2.imread does (libjpeg's defaults: JDCT_ISLOW integer IDCT, fancy chroma upsampling, no DCT
 * scaling) straight into RGB or BGR bytes. It exists because sharp (libvips) spends about twice the
 * CPU of cv2.imread around the same libjpeg-turbo core; see docs/accuracy.md.
 *
 * decode(src: Uint8Array, bgr: boolean, dst?: Uint8Array) -> [width, height, Uint8Array] | null
 *   Decodes into `dst` when it is large enough (the caller reuses one buffer), else into a fresh
 *   Node Buffer. Returns null whenever the image is not a plain case that this decoder reproduces
 *   exactly: not a baseline/progressive YCbCr or greyscale JPEG, an EXIF orientation other than 1
 *   (cv2 rotates), any libjpeg warning (sharp fails on those with its own message), or any error.
 *   The caller then falls back to sharp, which handles every other case and reports errors.
 *
 * Built by scripts/build-native.sh into .fdk/native/jpeg-decode.node (git-ignored).
 */
#include <node_api.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

struct err_mgr {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
};

static void on_error(j_common_ptr cinfo) {
  struct err_mgr *e = (struct err_mgr *)cinfo->err;
  longjmp(e->jump, 1);
}

/* A warning (corrupt data, premature end): give up and let sharp decide. */
static void on_message(j_common_ptr cinfo, int level) {
  if (level < 0) on_error(cinfo);
}

static unsigned get16(const JOCTET *p, int little) { return little ? (unsigned)(p[0] | p[1] << 8) : (unsigned)(p[0] << 8 | p[1]); }
static unsigned get32(const JOCTET *p, int little) {
  return little ? (unsigned)p[0] | (unsigned)p[1] << 8 | (unsigned)p[2] << 16 | (unsigned)p[3] << 24
                : (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | (unsigned)p[3];
}

/* EXIF orientation of an APP1 marker: 1 when absent; 0 when the block is unreadable (be careful). */
static int exif_orientation(const JOCTET *d, unsigned len) {
  if (len < 14 || memcmp(d, "Exif\0\0", 6) != 0) return 1;
  const JOCTET *t = d + 6;
  unsigned n = len - 6;
  int little;
  if (t[0] == 'I' && t[1] == 'I') little = 1;
  else if (t[0] == 'M' && t[1] == 'M') little = 0;
  else return 0;
  unsigned ifd = get32(t + 4, little);
  if (ifd + 2 > n) return 0;
  unsigned count = get16(t + ifd, little);
  for (unsigned k = 0; k < count; k++) {
    unsigned e = ifd + 2 + 12 * k;
    if (e + 12 > n) return 0;
    if (get16(t + e, little) == 0x0112) return (int)get16(t + e + 8, little);
  }
  return 1;
}

static napi_value null_value(napi_env env) {
  napi_value v;
  napi_get_null(env, &v);
  return v;
}

static napi_value decode(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "decode(src, bgr, dst?)");
    return NULL;
  }
  void *src;
  size_t src_len;
  napi_typedarray_type type;
  napi_value src_ab;
  size_t src_off;
  if (napi_get_typedarray_info(env, argv[0], &type, &src_len, &src, &src_ab, &src_off) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "src must be a Uint8Array");
    return NULL;
  }
  bool bgr = false;
  napi_get_value_bool(env, argv[1], &bgr);
  void *dst = NULL;
  size_t dst_len = 0;
  napi_value dst_value = NULL;
  napi_valuetype vt = napi_undefined;
  if (argc >= 3) napi_typeof(env, argv[2], &vt);
  if (vt == napi_object) {
    napi_value ab;
    size_t off;
    if (napi_get_typedarray_info(env, argv[2], &type, &dst_len, &dst, &ab, &off) != napi_ok || type != napi_uint8_array) {
      napi_throw_type_error(env, NULL, "dst must be a Uint8Array");
      return NULL;
    }
    dst_value = argv[2];
  }
  if (src_len < 4 || ((unsigned char *)src)[0] != 0xFF || ((unsigned char *)src)[1] != 0xD8) return null_value(env);

  struct jpeg_decompress_struct cinfo;
  struct err_mgr err;
  /* volatile: read after longjmp */
  unsigned char *volatile out = NULL;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.emit_message = on_message;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return null_value(env);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, (const unsigned char *)src, (unsigned long)src_len);
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&cinfo, TRUE);
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next)
    if (m->marker == JPEG_APP0 + 1 && exif_orientation(m->data, m->data_length) != 1) longjmp(err.jump, 1);
  if (cinfo.jpeg_color_space != JCS_YCbCr && cinfo.jpeg_color_space != JCS_GRAYSCALE) longjmp(err.jump, 1);
  cinfo.out_color_space = bgr ? JCS_EXT_BGR : JCS_EXT_RGB; /* grey is replicated to 3 channels, as cv2 does */
  jpeg_start_decompress(&cinfo);
  size_t stride = (size_t)cinfo.output_width * 3;
  size_t size = stride * cinfo.output_height;
  if (cinfo.output_components != 3) longjmp(err.jump, 1);
  napi_value data;
  if (dst && dst_len >= size) {
    out = dst;
    data = dst_value;
  } else {
    void *fresh_data;
    if (napi_create_buffer(env, size, &fresh_data, &data) != napi_ok) longjmp(err.jump, 1);
    out = fresh_data;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW rows[8];
    int k;
    for (k = 0; k < 8 && cinfo.output_scanline + k < cinfo.output_height; k++) rows[k] = out + (cinfo.output_scanline + k) * stride;
    jpeg_read_scanlines(&cinfo, rows, (JDIMENSION)k);
  }
  jpeg_finish_decompress(&cinfo);
  unsigned width = cinfo.output_width, height = cinfo.output_height;
  jpeg_destroy_decompress(&cinfo);

  napi_value result, w, h;
  napi_create_array_with_length(env, 3, &result);
  napi_create_uint32(env, width, &w);
  napi_create_uint32(env, height, &h);
  napi_set_element(env, result, 0, w);
  napi_set_element(env, result, 1, h);
  napi_set_element(env, result, 2, data);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "decode", NAPI_AUTO_LENGTH, decode, NULL, &fn);
  napi_set_named_property(env, exports, "decode", fn);
  return exports;
}
