package clusterconn

import (
	"errors"
	"strings"

	as "github.com/aerospike/aerospike-client-go/v7"
	"github.com/aerospike/aerospike-client-go/v7/types"
)

// The legacy tools print the C client's status codes (as_status) and their
// names. The Go client's server result codes (positive) are the same
// numbers; its client-side codes (negative) differ and are mapped here.

// C client status codes the tools test for.
const (
	StatusClient           = -1  // AEROSPIKE_ERR_CLIENT
	StatusParam            = -2  // AEROSPIKE_ERR_PARAM
	StatusClientAbort      = -5  // AEROSPIKE_ERR_CLIENT_ABORT
	StatusAsyncConnection  = -6  // AEROSPIKE_ERR_ASYNC_CONNECTION
	StatusNoMoreConns      = -7  // AEROSPIKE_ERR_NO_MORE_CONNECTIONS
	StatusInvalidNode      = -8  // AEROSPIKE_ERR_INVALID_NODE
	StatusConnection       = -10 // AEROSPIKE_ERR_CONNECTION
	StatusMaxRetries       = -12 // AEROSPIKE_ERR_MAX_RETRIES_EXCEEDED
	StatusMaxErrorRate     = -14 // AEROSPIKE_MAX_ERROR_RATE
	StatusNoResponse       = -15 // AEROSPIKE_NO_RESPONSE
	StatusBatchFailed      = -16 // AEROSPIKE_BATCH_FAILED
	StatusOK               = 0
	StatusTimeout          = 9   // AEROSPIKE_ERR_TIMEOUT
	StatusCluster          = 11  // AEROSPIKE_ERR_CLUSTER (partition unavailable)
	StatusIndexNotFound    = 201 // AEROSPIKE_ERR_INDEX_NOT_FOUND
	StatusIndexNotReadable = 203 // AEROSPIKE_ERR_INDEX_NOT_READABLE
)

// goToC maps the Go client's client-side result codes to the C client's
// status codes of the same situations.
var goToC = map[types.ResultCode]int{
	types.GRPC_ERROR:                       StatusClient,
	types.BATCH_FAILED:                     StatusBatchFailed,
	types.NO_RESPONSE:                      StatusNoResponse,
	types.NETWORK_ERROR:                    StatusConnection,
	types.COMMON_ERROR:                     StatusClient,
	types.MAX_RETRIES_EXCEEDED:             StatusMaxRetries,
	types.MAX_ERROR_RATE:                   StatusMaxErrorRate,
	types.RACK_NOT_DEFINED:                 StatusClient,
	types.INVALID_CLUSTER_PARTITION_MAP:    StatusClient,
	types.SERVER_NOT_AVAILABLE:             StatusInvalidNode,
	types.CLUSTER_NAME_MISMATCH_ERROR:      StatusClient,
	types.RECORDSET_CLOSED:                 StatusClientAbort,
	types.NO_AVAILABLE_CONNECTIONS_TO_NODE: StatusNoMoreConns,
	types.TYPE_NOT_SUPPORTED:               StatusParam,
	types.COMMAND_REJECTED:                 StatusClient,
	types.QUERY_TERMINATED:                 StatusClientAbort,
	types.SCAN_TERMINATED:                  StatusClientAbort,
	types.INVALID_NODE_ERROR:               StatusInvalidNode,
	types.PARSE_ERROR:                      StatusClient,
	types.SERIALIZE_ERROR:                  StatusClient,
}

// CStatus returns the C client's status code for a result code of the Go
// client.
func CStatus(rc types.ResultCode) int {
	if c, ok := goToC[rc]; ok {
		return c
	}
	if rc < 0 {
		return StatusClient
	}
	return int(rc)
}

// ErrorStatus returns the C client's status code for an error of the Go
// client: nil is 0, an error that only says the client gave up after its
// own retries is reported by the error of the last attempt (as the C
// client reports it) or, when no attempt found an active node, as
// AEROSPIKE_ERR_INVALID_NODE; an error that is not the client's is
// AEROSPIKE_ERR_CLIENT.
func ErrorStatus(err error) int {
	if err == nil {
		return StatusOK
	}
	fallback := StatusClient
	for e := err; e != nil; e = errors.Unwrap(e) {
		ae, ok := e.(*as.AerospikeError)
		if !ok {
			continue
		}
		switch {
		case ae.ResultCode == types.MAX_RETRIES_EXCEEDED:
			// Without a cause, the client found no active node for
			// the command (the C client: no node for the partition).
			fallback = StatusInvalidNode
			continue
		case ae.ResultCode == types.NO_AVAILABLE_CONNECTIONS_TO_NODE &&
			!strings.Contains(firstLine(ae.Error()), "exhausted"):
			// The Go client reports a node it cannot connect to as an
			// empty connection pool (it dials in the background); the C
			// client reports the failed connection. (Only this error is
			// looked at, not the earlier attempts it wraps.)
			return StatusConnection
		}
		return CStatus(ae.ResultCode)
	}
	return fallback
}

// StatusName returns the C client's name of a status code
// (as_error_string): AEROSPIKE_ERR_CONNECTION for -10, and the generic
// AEROSPIKE_ERR_CLIENT / AEROSPIKE_ERR_SERVER for unknown codes.
func StatusName(code int) string {
	if n, ok := statusNames[code]; ok {
		return n
	}
	if code < 0 {
		return "AEROSPIKE_ERR_CLIENT"
	}
	return "AEROSPIKE_ERR_SERVER"
}

// statusNames are the C client's as_status names.
var statusNames = map[int]string{
	-20: "AEROSPIKE_METRICS_CONFLICT",
	-19: "AEROSPIKE_TXN_ALREADY_ABORTED",
	-18: "AEROSPIKE_TXN_ALREADY_COMMITTED",
	-17: "AEROSPIKE_TXN_FAILED",
	-16: "AEROSPIKE_BATCH_FAILED",
	-15: "AEROSPIKE_NO_RESPONSE",
	-14: "AEROSPIKE_MAX_ERROR_RATE",
	-13: "AEROSPIKE_USE_NORMAL_RETRY",
	-12: "AEROSPIKE_ERR_MAX_RETRIES_EXCEEDED",
	-11: "AEROSPIKE_ERR_ASYNC_QUEUE_FULL",
	-10: "AEROSPIKE_ERR_CONNECTION",
	-9:  "AEROSPIKE_ERR_TLS_ERROR",
	-8:  "AEROSPIKE_ERR_INVALID_NODE",
	-7:  "AEROSPIKE_ERR_NO_MORE_CONNECTIONS",
	-6:  "AEROSPIKE_ERR_ASYNC_CONNECTION",
	-5:  "AEROSPIKE_ERR_CLIENT_ABORT",
	-4:  "AEROSPIKE_ERR_INVALID_HOST",
	-3:  "AEROSPIKE_NO_MORE_RECORDS",
	-1:  "AEROSPIKE_ERR_CLIENT",
	0:   "AEROSPIKE_OK",
	1:   "AEROSPIKE_ERR_SERVER",
	2:   "AEROSPIKE_ERR_RECORD_NOT_FOUND",
	3:   "AEROSPIKE_ERR_RECORD_GENERATION",
	4:   "AEROSPIKE_ERR_REQUEST_INVALID",
	5:   "AEROSPIKE_ERR_RECORD_EXISTS",
	6:   "AEROSPIKE_ERR_BIN_EXISTS",
	7:   "AEROSPIKE_ERR_CLUSTER_CHANGE",
	8:   "AEROSPIKE_ERR_SERVER_FULL",
	9:   "AEROSPIKE_ERR_TIMEOUT",
	10:  "AEROSPIKE_ERR_ALWAYS_FORBIDDEN",
	11:  "AEROSPIKE_ERR_CLUSTER",
	12:  "AEROSPIKE_ERR_BIN_INCOMPATIBLE_TYPE",
	13:  "AEROSPIKE_ERR_RECORD_TOO_BIG",
	14:  "AEROSPIKE_ERR_RECORD_BUSY",
	15:  "AEROSPIKE_ERR_SCAN_ABORTED",
	16:  "AEROSPIKE_ERR_UNSUPPORTED_FEATURE",
	17:  "AEROSPIKE_ERR_BIN_NOT_FOUND",
	18:  "AEROSPIKE_ERR_DEVICE_OVERLOAD",
	19:  "AEROSPIKE_ERR_RECORD_KEY_MISMATCH",
	20:  "AEROSPIKE_ERR_NAMESPACE_NOT_FOUND",
	21:  "AEROSPIKE_ERR_BIN_NAME",
	22:  "AEROSPIKE_ERR_FAIL_FORBIDDEN",
	23:  "AEROSPIKE_ERR_FAIL_ELEMENT_NOT_FOUND",
	24:  "AEROSPIKE_ERR_FAIL_ELEMENT_EXISTS",
	25:  "AEROSPIKE_ERR_ENTERPRISE_ONLY",
	26:  "AEROSPIKE_ERR_OP_NOT_APPLICABLE",
	27:  "AEROSPIKE_FILTERED_OUT",
	28:  "AEROSPIKE_LOST_CONFLICT",
	32:  "AEROSPIKE_XDR_KEY_BUSY",
	50:  "AEROSPIKE_QUERY_END",
	51:  "AEROSPIKE_SECURITY_NOT_SUPPORTED",
	52:  "AEROSPIKE_SECURITY_NOT_ENABLED",
	53:  "AEROSPIKE_SECURITY_SCHEME_NOT_SUPPORTED",
	54:  "AEROSPIKE_INVALID_COMMAND",
	55:  "AEROSPIKE_INVALID_FIELD",
	56:  "AEROSPIKE_ILLEGAL_STATE",
	60:  "AEROSPIKE_INVALID_USER",
	61:  "AEROSPIKE_USER_ALREADY_EXISTS",
	62:  "AEROSPIKE_INVALID_PASSWORD",
	63:  "AEROSPIKE_EXPIRED_PASSWORD",
	64:  "AEROSPIKE_FORBIDDEN_PASSWORD",
	65:  "AEROSPIKE_INVALID_CREDENTIAL",
	66:  "AEROSPIKE_EXPIRED_SESSION",
	70:  "AEROSPIKE_INVALID_ROLE",
	71:  "AEROSPIKE_ROLE_ALREADY_EXISTS",
	72:  "AEROSPIKE_INVALID_PRIVILEGE",
	73:  "AEROSPIKE_INVALID_WHITELIST",
	74:  "AEROSPIKE_QUOTAS_NOT_ENABLED",
	75:  "AEROSPIKE_INVALID_QUOTA",
	80:  "AEROSPIKE_NOT_AUTHENTICATED",
	81:  "AEROSPIKE_ROLE_VIOLATION",
	82:  "AEROSPIKE_NOT_WHITELISTED",
	83:  "AEROSPIKE_QUOTA_EXCEEDED",
	100: "AEROSPIKE_ERR_UDF",
	120: "AEROSPIKE_MRT_BLOCKED",
	121: "AEROSPIKE_MRT_VERSION_MISMATCH",
	122: "AEROSPIKE_MRT_EXPIRED",
	123: "AEROSPIKE_MRT_TOO_MANY_WRITES",
	124: "AEROSPIKE_MRT_COMMITTED",
	125: "AEROSPIKE_MRT_ABORTED",
	126: "AEROSPIKE_MRT_ALREADY_LOCKED",
	127: "AEROSPIKE_MRT_MONITOR_EXISTS",
	150: "AEROSPIKE_ERR_BATCH_DISABLED",
	151: "AEROSPIKE_ERR_BATCH_MAX_REQUESTS_EXCEEDED",
	152: "AEROSPIKE_ERR_BATCH_QUEUES_FULL",
	160: "AEROSPIKE_ERR_GEO_INVALID_GEOJSON",
	200: "AEROSPIKE_ERR_INDEX_FOUND",
	201: "AEROSPIKE_ERR_INDEX_NOT_FOUND",
	202: "AEROSPIKE_ERR_INDEX_OOM",
	203: "AEROSPIKE_ERR_INDEX_NOT_READABLE",
	204: "AEROSPIKE_ERR_INDEX",
	205: "AEROSPIKE_ERR_INDEX_NAME_MAXLEN",
	206: "AEROSPIKE_ERR_INDEX_MAXCOUNT",
	210: "AEROSPIKE_ERR_QUERY_ABORTED",
	211: "AEROSPIKE_ERR_QUERY_QUEUE_FULL",
	212: "AEROSPIKE_ERR_QUERY_TIMEOUT",
	213: "AEROSPIKE_ERR_QUERY",
}
