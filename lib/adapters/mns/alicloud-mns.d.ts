/**
 * Types for the parts of `@alicloud/mns` (1.2.x) we use; the package ships none.
 * Response bodies are the XML elements as strings (the SDK flattens one level), batches arrays.
 */
declare module '@alicloud/mns' {
  // Merged with the class so that importers can name these types as `MnsClient.MnsMessage`.
  namespace MnsClient {
    interface MnsClientOptions {
      accessKeyId: string;
      accessKeySecret: string;
      securityToken?: string;
      /** `http(s)://host[:port]`; when absent, `region` (and `secure`, `internal`, `vpc`) build it. */
      endpoint?: string;
      region?: string;
      secure?: boolean;
      internal?: boolean;
      vpc?: boolean;
      readTimeout?: number;
      connectTimeout?: number;
    }

    interface MnsResponse<B> {
      code: number;
      headers: Record<string, string | undefined>;
      body: B;
    }

    /** A message as ReceiveMessage / PeekMessage answer it; every value is the element's text. */
    interface MnsMessage {
      MessageId: string;
      ReceiptHandle?: string;
      MessageBodyMD5?: string;
      MessageBody: string;
      EnqueueTime: string;
      NextVisibleTime?: string;
      FirstDequeueTime?: string;
      DequeueCount: string;
      Priority?: string;
    }

    interface MnsQueueAttributes {
      DelaySeconds?: number;
      MaximumMessageSize?: number;
      MessageRetentionPeriod?: number;
      VisibilityTimeout?: number;
      PollingWaitSeconds?: number;
      LoggingEnabled?: boolean;
    }

    interface MnsSendParams {
      /** Written into the XML as is: the SDK does not escape it. */
      MessageBody: string;
      DelaySeconds?: number;
      Priority?: number;
    }

    interface MnsBatchDeleteError {
      ErrorCode: string;
      ErrorMessage: string;
      ReceiptHandle: string;
    }
  }

  class MnsClient {
    constructor(accountId: string, options: MnsClient.MnsClientOptions);
    get<B = Record<string, unknown> | undefined>(
      resource: string,
      type: string,
      opts?: { headers?: Record<string, string | number>; readTimeout?: number; connectTimeout?: number },
    ): Promise<MnsClient.MnsResponse<B>>;
    createQueue(
      name: string,
      params?: MnsClient.MnsQueueAttributes,
    ): Promise<MnsClient.MnsResponse<undefined>>;
    deleteQueue(name: string): Promise<MnsClient.MnsResponse<undefined>>;
    listQueue(
      start?: string,
      limit?: number,
      prefix?: string,
    ): Promise<MnsClient.MnsResponse<{ QueueURL: string }[] | undefined>>;
    getQueueAttributes(name: string): Promise<MnsClient.MnsResponse<Record<string, string>>>;
    setQueueAttributes(
      name: string,
      params?: MnsClient.MnsQueueAttributes,
    ): Promise<MnsClient.MnsResponse<undefined>>;
    sendMessage(
      queueName: string,
      params: MnsClient.MnsSendParams,
    ): Promise<MnsClient.MnsResponse<{ MessageId: string; MessageBodyMD5: string }>>;
    batchSendMessage(
      queueName: string,
      params: MnsClient.MnsSendParams[],
    ): Promise<MnsClient.MnsResponse<{ MessageId: string; MessageBodyMD5: string }[]>>;
    receiveMessage(
      queueName: string,
      waitSeconds?: number,
    ): Promise<MnsClient.MnsResponse<MnsClient.MnsMessage>>;
    batchReceiveMessage(
      queueName: string,
      numOfMessages: number,
      waitSeconds?: number,
    ): Promise<MnsClient.MnsResponse<MnsClient.MnsMessage[]>>;
    peekMessage(queueName: string): Promise<MnsClient.MnsResponse<MnsClient.MnsMessage>>;
    batchPeekMessage(
      queueName: string,
      numOfMessages: number,
    ): Promise<MnsClient.MnsResponse<MnsClient.MnsMessage[]>>;
    deleteMessage(queueName: string, receiptHandle: string): Promise<MnsClient.MnsResponse<undefined>>;
    batchDeleteMessage(
      queueName: string,
      receiptHandles: string[],
    ): Promise<MnsClient.MnsResponse<MnsClient.MnsBatchDeleteError[] | undefined>>;
    changeMessageVisibility(
      queueName: string,
      receiptHandle: string,
      visibilityTimeout: number,
    ): Promise<MnsClient.MnsResponse<{ ReceiptHandle: string; NextVisibleTime: string }>>;
    createTopic(
      name: string,
      params?: Record<string, string | number>,
    ): Promise<MnsClient.MnsResponse<undefined>>;
    publishMessage(
      topic: string,
      params: { MessageBody: string; MessageTag?: string },
    ): Promise<MnsClient.MnsResponse<{ MessageId: string; MessageBodyMD5: string }>>;
    /** What every call goes through; `opts` reach `httpx.request` as they are (`agent` included). */
    request<B = Record<string, unknown> | undefined>(
      method: string,
      resource: string,
      type: string,
      body: Buffer | string,
      attentions?: string[],
      opts?: {
        headers?: Record<string, string | number>;
        readTimeout?: number;
        connectTimeout?: number;
        timeout?: number;
        agent?: import('node:http').Agent;
      },
    ): Promise<MnsClient.MnsResponse<B>>;
    /** The signed request the typed methods use (the SDK's `subscribe` is empty, so subscriptions go through it). */
    put(resource: string, type: string, body: Buffer | string): Promise<MnsClient.MnsResponse<undefined>>;
  }

  export = MnsClient;
}
