import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { StateUnavailableError } from "../config/errors";

/**
 * Collected message bodies too large for a state-table item, in the stack's encrypted payload bucket
 * (`RELAY_PAYLOAD_BUCKET`, expired by its lifecycle rule). Loaded on first use (a dynamic import in
 * create-handler.ts): the S3 client is evaluated only when such a body comes.
 */
export class PayloadStore {
  private readonly s3: S3Client;

  constructor(
    private readonly bucket: string,
    options: { region?: string; endpoint?: string } = {},
  ) {
    // A local S3 (fauxqs) answers path-style requests only; AWS takes both.
    this.s3 = new S3Client({ ...options, ...(options.endpoint ? { forcePathStyle: true } : {}) });
  }

  async put(key: string, body: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: "application/json" }), {
        abortSignal: signal,
      });
    } catch (error) {
      throw new StateUnavailableError("PutObject", { cause: error });
    }
  }

  async get(key: string, signal?: AbortSignal): Promise<string> {
    try {
      const answer = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
      return (await answer.Body?.transformToString("utf-8")) ?? "";
    } catch (error) {
      throw new StateUnavailableError("GetObject", { cause: error });
    }
  }
}
