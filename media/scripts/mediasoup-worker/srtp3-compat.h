/*
 * libsrtp 3 names on top of Debian's libsrtp 2.5, for building mediasoup's worker
 * (build-mediasoup-worker.sh installs this as the libsrtp3 shim's <srtp.h>).
 *
 * mediasoup 3.18 uses the libsrtp 3 API: protect/unprotect write into a separate output buffer
 * whose capacity is passed in *out_len, and take size_t lengths; libsrtp 2 works in place on
 * an int length and assumes room for the trailer. Each adapter copies the input into the
 * output buffer when they differ, checks the room libsrtp 2 assumes, and calls the libsrtp 2
 * function in place. Only what mediasoup calls is adapted; the wire format is the same.
 */
#ifndef FLOCK_SRTP3_COMPAT_H
#define FLOCK_SRTP3_COMPAT_H

#include <srtp2/srtp.h>

#ifdef __cplusplus
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>

/* libsrtp 3 status codes that libsrtp 2 never returns (numbered after its last one). */
constexpr srtp_err_status_t srtp_err_status_buffer_small =
  static_cast<srtp_err_status_t>(srtp_err_status_pkt_idx_adv + 1);
constexpr srtp_err_status_t srtp_err_status_cryptex_err =
  static_cast<srtp_err_status_t>(srtp_err_status_pkt_idx_adv + 2);

inline srtp_err_status_t srtp_stream_remove(srtp_t session, uint32_t ssrc)
{
	return srtp_remove_stream(session, ssrc);
}

namespace flock_srtp3_compat
{
	using InPlace = srtp_err_status_t (*)(srtp_t, void*, int*);

	inline srtp_err_status_t Run(
	  InPlace fn, srtp_t ctx, const uint8_t* in, size_t inLen, uint8_t* out, size_t* outLen, size_t room)
	{
		if (inLen > INT_MAX || inLen + room > *outLen)
			return srtp_err_status_buffer_small;
		if (out != in)
			std::memmove(out, in, inLen);
		int len = static_cast<int>(inLen);
		const srtp_err_status_t err = fn(ctx, out, &len);
		if (err == srtp_err_status_ok)
			*outLen = static_cast<size_t>(len);
		return err;
	}
} // namespace flock_srtp3_compat

/* mediasoup passes mki_index 0 and never enables MKI. */
inline srtp_err_status_t srtp_protect(
  srtp_t ctx, const uint8_t* rtp, size_t rtpLen, uint8_t* srtp, size_t* srtpLen, size_t /*mkiIndex*/)
{
	return flock_srtp3_compat::Run(
	  static_cast<flock_srtp3_compat::InPlace>(&::srtp_protect), ctx, rtp, rtpLen, srtp, srtpLen, SRTP_MAX_TRAILER_LEN);
}

inline srtp_err_status_t srtp_unprotect(
  srtp_t ctx, const uint8_t* srtp, size_t srtpLen, uint8_t* rtp, size_t* rtpLen)
{
	return flock_srtp3_compat::Run(
	  static_cast<flock_srtp3_compat::InPlace>(&::srtp_unprotect), ctx, srtp, srtpLen, rtp, rtpLen, 0);
}

inline srtp_err_status_t srtp_protect_rtcp(
  srtp_t ctx, const uint8_t* rtcp, size_t rtcpLen, uint8_t* srtcp, size_t* srtcpLen, size_t /*mkiIndex*/)
{
	return flock_srtp3_compat::Run(
	  static_cast<flock_srtp3_compat::InPlace>(&::srtp_protect_rtcp),
	  ctx,
	  rtcp,
	  rtcpLen,
	  srtcp,
	  srtcpLen,
	  SRTP_MAX_TRAILER_LEN + 4);
}

inline srtp_err_status_t srtp_unprotect_rtcp(
  srtp_t ctx, const uint8_t* srtcp, size_t srtcpLen, uint8_t* rtcp, size_t* rtcpLen)
{
	return flock_srtp3_compat::Run(
	  static_cast<flock_srtp3_compat::InPlace>(&::srtp_unprotect_rtcp), ctx, srtcp, srtcpLen, rtcp, rtcpLen, 0);
}
#endif /* __cplusplus */

#endif /* FLOCK_SRTP3_COMPAT_H */
