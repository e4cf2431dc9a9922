;; Row kernels of the float32 INTER_LINEAR resize (src/accuracy/cv-resize-wasm.ts drives them).
;; Every value is one IEEE float32 operation, like OpenCV's HResizeLinear / VResizeLinear on CV_32F:
;;   horizontal: h = src[x0]*w0 + src[x1]*w1       (uint8 source, exact conversion to float32)
;;   vertical:   v = h0*b0 + h1*b1, then v - mean  (the mean subtraction of the model input)
;; The JS version (cv-resize.ts) rounds every step to float32 with Math.fround and gives the same
;; bits; this one exists because it is several times faster at long side 640.
(module
  (memory (export "memory") 1)

  ;; One source row of 3 interleaved channels (bytes at $src) -> 3 planar float32 rows of $dw
  ;; values at $out, $out + 4*dw, $out + 8*dw. $x0/$x1: int32 byte offsets of the two taps of
  ;; each output pixel inside the row; $a0/$a1: their float32 weights.
  (func (export "hrow3") (param $src i32) (param $dw i32) (param $x0 i32) (param $x1 i32)
                         (param $a0 i32) (param $a1 i32) (param $out i32)
    (local $i i32) (local $p i32) (local $q i32) (local $w0 f32) (local $w1 f32)
    (local $o0 i32) (local $o1 i32) (local $o2 i32) (local $n4 i32)
    (local.set $n4 (i32.shl (local.get $dw) (i32.const 2)))
    (local.set $o0 (local.get $out))
    (local.set $o1 (i32.add (local.get $out) (local.get $n4)))
    (local.set $o2 (i32.add (local.get $o1) (local.get $n4)))
    (local.set $i (i32.const 0))
    (block $done
      (br_if $done (i32.eqz (local.get $dw)))
      (loop $next
        (local.set $p (i32.add (local.get $src) (i32.load (i32.add (local.get $x0) (local.get $i)))))
        (local.set $q (i32.add (local.get $src) (i32.load (i32.add (local.get $x1) (local.get $i)))))
        (local.set $w0 (f32.load (i32.add (local.get $a0) (local.get $i))))
        (local.set $w1 (f32.load (i32.add (local.get $a1) (local.get $i))))
        (f32.store (i32.add (local.get $o0) (local.get $i))
          (f32.add
            (f32.mul (f32.convert_i32_u (i32.load8_u (local.get $p))) (local.get $w0))
            (f32.mul (f32.convert_i32_u (i32.load8_u (local.get $q))) (local.get $w1))))
        (f32.store (i32.add (local.get $o1) (local.get $i))
          (f32.add
            (f32.mul (f32.convert_i32_u (i32.load8_u offset=1 (local.get $p))) (local.get $w0))
            (f32.mul (f32.convert_i32_u (i32.load8_u offset=1 (local.get $q))) (local.get $w1))))
        (f32.store (i32.add (local.get $o2) (local.get $i))
          (f32.add
            (f32.mul (f32.convert_i32_u (i32.load8_u offset=2 (local.get $p))) (local.get $w0))
            (f32.mul (f32.convert_i32_u (i32.load8_u offset=2 (local.get $q))) (local.get $w1))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br_if $next (i32.lt_u (local.get $i) (local.get $n4)))))
  )

  ;; $n float32 values: out[i] = (r0[i]*b0 + r1[i]*b1) - mean, four lanes at a time, then the tail.
  (func (export "vrow") (param $r0 i32) (param $r1 i32) (param $b0 f32) (param $b1 f32)
                        (param $mean f32) (param $n i32) (param $out i32)
    (local $i i32) (local $n4 i32) (local $vend i32)
    (local $vb0 v128) (local $vb1 v128) (local $vm v128)
    (local.set $vb0 (f32x4.splat (local.get $b0)))
    (local.set $vb1 (f32x4.splat (local.get $b1)))
    (local.set $vm (f32x4.splat (local.get $mean)))
    (local.set $n4 (i32.shl (local.get $n) (i32.const 2)))
    ;; bytes covered by whole 4-lane vectors
    (local.set $vend (i32.and (local.get $n4) (i32.const -16)))
    (local.set $i (i32.const 0))
    (block $vdone
      (br_if $vdone (i32.eqz (local.get $vend)))
      (loop $vnext
        (v128.store (i32.add (local.get $out) (local.get $i))
          (f32x4.sub
            (f32x4.add
              (f32x4.mul (v128.load (i32.add (local.get $r0) (local.get $i))) (local.get $vb0))
              (f32x4.mul (v128.load (i32.add (local.get $r1) (local.get $i))) (local.get $vb1)))
            (local.get $vm)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br_if $vnext (i32.lt_u (local.get $i) (local.get $vend)))))
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
      (loop $next
        (f32.store (i32.add (local.get $out) (local.get $i))
          (f32.sub
            (f32.add
              (f32.mul (f32.load (i32.add (local.get $r0) (local.get $i))) (local.get $b0))
              (f32.mul (f32.load (i32.add (local.get $r1) (local.get $i))) (local.get $b1)))
            (local.get $mean)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br_if $next (i32.lt_u (local.get $i) (local.get $n4)))))
  )
)
