// What controllers may use from the vCenter client.
export { VCenterClient, type VCenterConnectOptions, type ApiFamily, type TlsInfo } from './client.ts';
export { VCenterError, VCenterApiError, VCenterNotFoundError, VCenterAlreadyExistsError, VCenterAuthError } from './errors.ts';
export { splitPem, pemToDer, fingerprints, sameCertificate, describeCertificate, type Fingerprints, type CertificateInfo } from './certificates.ts';
export { rootsFromDownloadZip } from './downloadZip.ts';
export { CloudClientError, CloudNetworkError, TlsVerificationError, ClientClosedError } from '../common/errors.ts';
export type { Logger } from '../common/logger.ts';
export type { RetryOptions } from '../common/retry.ts';
