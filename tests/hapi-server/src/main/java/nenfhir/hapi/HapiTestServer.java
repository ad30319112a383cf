package nenfhir.hapi;

import ca.uhn.fhir.batch2.jobs.config.Batch2JobsConfig;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.IDaoRegistry;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.config.ThreadPoolFactoryConfig;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.batch2.JpaBatch2Config;
import ca.uhn.fhir.jpa.binstore.DatabaseBinaryContentStorageSvcImpl;
import ca.uhn.fhir.jpa.config.HibernatePropertiesProvider;
import ca.uhn.fhir.jpa.config.r4.JpaR4Config;
import ca.uhn.fhir.jpa.config.util.HapiEntityManagerFactoryUtil;
import ca.uhn.fhir.jpa.config.util.ResourceCountCacheUtil;
import ca.uhn.fhir.jpa.dao.FulltextSearchSvcImpl;
import ca.uhn.fhir.jpa.dao.IFulltextSearchSvc;
import ca.uhn.fhir.jpa.dao.search.HSearchSortHelperImpl;
import ca.uhn.fhir.jpa.dao.search.IHSearchSortHelper;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.jpa.model.config.SubscriptionSettings;
import ca.uhn.fhir.jpa.model.dialect.HapiFhirH2Dialect;
import ca.uhn.fhir.jpa.partition.IPartitionLookupSvc;
import ca.uhn.fhir.jpa.provider.DaoRegistryResourceSupportedSvc;
import ca.uhn.fhir.jpa.provider.IJpaSystemProvider;
import ca.uhn.fhir.jpa.provider.JpaCapabilityStatementProvider;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.jpa.search.IStaleSearchDeletingSvc;
import ca.uhn.fhir.jpa.search.StaleSearchDeletingSvcImpl;
import ca.uhn.fhir.jpa.subscription.channel.config.SubscriptionChannelConfig;
import ca.uhn.fhir.jpa.subscription.match.config.SubscriptionProcessorConfig;
import ca.uhn.fhir.jpa.subscription.match.deliver.email.IEmailSender;
import ca.uhn.fhir.jpa.subscription.submit.config.SubscriptionSubmitterConfig;
import ca.uhn.fhir.jpa.subscription.util.SubscriptionDebugLogInterceptor;
import ca.uhn.fhir.jpa.util.ResourceCountCache;
import ca.uhn.fhir.rest.api.IResourceSupportedSvc;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.interceptor.LoggingInterceptor;
import ca.uhn.fhir.rest.server.interceptor.RequestValidatingInterceptor;
import ca.uhn.fhir.rest.server.interceptor.partition.RequestTenantPartitionInterceptor;
import ca.uhn.fhir.rest.server.tenant.UrlBaseTenantIdentificationStrategy;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.validation.IValidatorModule;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import jakarta.persistence.EntityManagerFactory;
import org.hibernate.dialect.Dialect;
import org.hl7.fhir.dstu2.model.Subscription.SubscriptionChannelType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.thymeleaf.ThymeleafAutoConfiguration;
import org.springframework.boot.web.context.WebServerInitializedEvent;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * nenfhir's HAPI FHIR test server: the JPA server for R4 on in-memory H2,
 * rest-hook subscriptions, every request validated against the R4 core
 * definitions. Spring Boot runs it (embedded Tomcat, HTTPS from PEM files);
 * the settings are in application.properties and on the command line
 * (see tests/hapi-server/run.sh). Once it listens, the port is written to
 * the file named by the property nenfhir.port-file.
 */
@SpringBootApplication(exclude = {ThymeleafAutoConfiguration.class})
@Import({
    JpaR4Config.class,
    ThreadPoolFactoryConfig.class,
    SubscriptionSubmitterConfig.class,
    SubscriptionProcessorConfig.class,
    SubscriptionChannelConfig.class,
    JpaBatch2Config.class,
    Batch2JobsConfig.class
})
public class HapiTestServer {
    private static final Logger LOG = LoggerFactory.getLogger(HapiTestServer.class);

    public static void main(String[] args) {
        SpringApplication.run(HapiTestServer.class, args);
    }

    /** Writes the port once the web server listens (atomically: temp file, rename). */
    @Bean
    public ApplicationListener<WebServerInitializedEvent> portFileWriter(
            org.springframework.core.env.Environment env) {
        return event -> {
            String file = env.getProperty("nenfhir.port-file");
            int port = event.getWebServer().getPort();
            LOG.info("nenfhir HAPI test server listening on port {}", port);
            if (file == null || file.isEmpty()) return;
            try {
                Path dst = Path.of(file);
                Path tmp = Path.of(file + ".tmp");
                Files.writeString(tmp, port + "\n", StandardCharsets.US_ASCII);
                Files.move(tmp, dst, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new IllegalStateException("cannot write " + file, e);
            }
        };
    }

    // ---- storage ----------------------------------------------------------

    @Bean
    public JpaStorageSettings jpaStorageSettings(org.springframework.core.env.Environment env) {
        JpaStorageSettings s = new JpaStorageSettings();
        // Client-assigned ids on PUT: ALPHANUMERIC (HAPI's default) accepts any id
        // that is not purely numeric, which covers nenfhir's UUIDs; numeric
        // client ids are refused, as on a stock HAPI.
        s.setResourceClientIdStrategy(JpaStorageSettings.ClientIdStrategyEnum.ALPHANUMERIC);
        s.setAllowExternalReferences(false);
        // what a production HAPI keeps: referential integrity on write and delete
        s.setEnforceReferentialIntegrityOnWrite(true);
        // on delete too (HAPI's default): deleting an input nenfhir has derived
        // from answers 409 Conflict, unless the tenant's test control
        // delete-integrity=false (or nenfhir.delete-integrity=false without
        // tenants) has TestHooks let it through
        s.setEnforceReferentialIntegrityOnDelete(true);
        // nenfhir.search-cache-ms: how long an identical search is answered
        // from HAPI's search cache (HAPI's default: 60000 ms) unless the
        // request says Cache-Control: no-cache.
        s.setReuseCachedSearchResultsForMillis(env.getProperty("nenfhir.search-cache-ms", Long.class,
                JpaStorageSettings.DEFAULT_REUSE_CACHED_SEARCH_RESULTS_FOR_MILLIS));
        s.setAutoCreatePlaceholderReferenceTargets(false);
        s.setDeleteExpungeEnabled(false);
        s.setExpungeEnabled(true);
        return s;
    }

    @Bean
    public SubscriptionSettings subscriptionSettings() {
        SubscriptionSettings s = new SubscriptionSettings();
        s.addSupportedSubscriptionType(SubscriptionChannelType.RESTHOOK);
        return s;
    }

    /** nenfhir.tenants=true: one HAPI partition per URL tenant (/fhir/<tenant>/...),
     *  so that the tests of one ctest run share a server without seeing each
     *  other's resources, searches or Subscriptions; made by TestControls. */
    @Bean
    public PartitionSettings partitionSettings(org.springframework.core.env.Environment env) {
        PartitionSettings s = new PartitionSettings();
        if (env.getProperty("nenfhir.tenants", Boolean.class, false)) {
            s.setPartitioningEnabled(true);
            // database partition mode: the partition is part of every key, so
            // client-assigned ids are unique per partition (nenfhir's Device
            // has the same id on every server; two tenants each have one)
            s.setDatabasePartitionMode(true);
            s.setDefaultPartitionId(0);
            // a conditional create (the LIS: Patient If-None-Exist by identifier)
            // of the same identifier in two tenants is no duplicate
            s.setConditionalCreateDuplicateIdentifiersEnabled(true);
        }
        return s;
    }

    /** The runtime test controls (servlet /_test/*) and their per-tenant state. */
    @Bean
    public TestControls testControls(PartitionSettings partitioning, IPartitionLookupSvc partitions,
            org.springframework.core.env.Environment env) {
        TestControls c = new TestControls(partitioning.isPartitioningEnabled() ? partitions : null);
        // without tenants, the command line's settings hold for the one (unnamed) tenant
        TestControls.Tenant t = c.tenant(null);
        t.deleteIntegrity = env.getProperty("nenfhir.delete-integrity", Boolean.class, true);
        t.expirePageAt = env.getProperty("nenfhir.expire-page-at", Long.class, 0L);
        t.expirePageEvery = env.getProperty("nenfhir.expire-page-every", Long.class, 0L);
        return c;
    }

    @Bean
    public ServletRegistrationBean<TestControls> testControlServlet(TestControls controls) {
        return new ServletRegistrationBean<>(controls, "/_test/*");
    }

    @Bean
    public IFulltextSearchSvc fullTextSearchSvc() {
        return new FulltextSearchSvcImpl();
    }

    @Bean
    public IHSearchSortHelper hSearchSortHelper(ISearchParamRegistry registry) {
        return new HSearchSortHelperImpl(registry);
    }

    @Bean
    public IStaleSearchDeletingSvc staleSearchDeletingSvc() {
        return new StaleSearchDeletingSvcImpl();
    }

    @Bean
    public DatabaseBackedPagingProvider databaseBackedPagingProvider(
            org.springframework.core.env.Environment env) {
        DatabaseBackedPagingProvider p = new DatabaseBackedPagingProvider();
        p.setDefaultPageSize(env.getProperty("nenfhir.page-size", Integer.class, 20));
        p.setMaximumPageSize(env.getProperty("nenfhir.max-page-size", Integer.class, 200));
        return p;
    }

    @Bean
    public IResourceSupportedSvc resourceSupportedSvc(IDaoRegistry registry) {
        return new DaoRegistryResourceSupportedSvc(registry);
    }

    @Bean(name = "myResourceCountsCache")
    public ResourceCountCache resourceCountsCache(IFhirSystemDao<?, ?> systemDao) {
        return ResourceCountCacheUtil.newResourceCountCache(systemDao);
    }

    @Bean
    public DatabaseBinaryContentStorageSvcImpl databaseBinaryStorageSvc() {
        return new DatabaseBinaryContentStorageSvcImpl();
    }

    /** No e-mail subscriptions here; the delivery handler factory still wants a sender. */
    @Bean
    public IEmailSender emailSender() {
        return details -> {};
    }

    @Primary
    @Bean
    public LocalContainerEntityManagerFactoryBean entityManagerFactory(
            ConfigurableListableBeanFactory beanFactory,
            FhirContext ctx,
            JpaStorageSettings storage,
            PartitionSettings partitioning,
            DataSource dataSource) {
        LocalContainerEntityManagerFactoryBean emf =
                HapiEntityManagerFactoryUtil.newEntityManagerFactory(beanFactory, ctx, storage);
        Map<String, Object> p = new HashMap<>();
        p.put("hibernate.dialect", HapiFhirH2Dialect.class.getName());
        p.put("hibernate.hbm2ddl.auto", "update");
        p.put("hibernate.archive.scanner", "org.hibernate.boot.archive.scan.internal.DisabledScanner");
        p.put("hibernate.implicit_naming_strategy",
                "org.springframework.boot.orm.jpa.hibernate.SpringImplicitNamingStrategy");
        p.put("hibernate.physical_naming_strategy",
                "org.hibernate.boot.model.naming.CamelCaseToUnderscoresNamingStrategy");
        p.put("hibernate.jdbc.batch_size", "20");
        p.put("hibernate.cache.use_query_cache", "false");
        p.put("hibernate.cache.use_second_level_cache", "false");
        p.put("hibernate.cache.use_structured_entries", "false");
        p.put("hibernate.cache.use_minimal_puts", "false");
        p.put("hibernate.format_sql", "false");
        p.put("hibernate.show_sql", "false");
        p.put("hibernate.search.enabled", "false");
        if (partitioning.isDatabasePartitionMode()) p.put("hapi.database_partition_mode", "true");
        emf.setPersistenceUnitName("HAPI_PU");
        emf.setJpaPropertyMap(p);
        emf.setDataSource(dataSource);
        return emf;
    }

    @Primary
    @Bean
    public JpaTransactionManager transactionManager(EntityManagerFactory emf) {
        JpaTransactionManager tm = new JpaTransactionManager();
        tm.setEntityManagerFactory(emf);
        return tm;
    }

    @Primary
    @Bean
    public HibernatePropertiesProvider hibernatePropertiesProvider() {
        return new HibernatePropertiesProvider() {
            private final Dialect dialect = new HapiFhirH2Dialect();

            @Override
            public Dialect getDialect() {
                return dialect;
            }
        };
    }

    // ---- the REST server --------------------------------------------------

    @Bean
    public RestfulServer restfulServer(
            IFhirSystemDao<?, ?> systemDao,
            DaoRegistry daoRegistry,
            IJpaSystemProvider systemProvider,
            ResourceProviderFactory providers,
            JpaStorageSettings storage,
            ISearchParamRegistry searchParams,
            IValidationSupport validationSupport,
            IValidatorModule validatorModule,
            DatabaseBackedPagingProvider paging,
            DataSource dataSource,
            PartitionSettings partitioning,
            TestControls controls) {
        FhirContext ctx = systemDao.getContext();
        RestfulServer server = new RestfulServer(ctx);
        server.registerProviders(providers.createProviders());
        server.registerProvider(systemProvider);
        JpaCapabilityStatementProvider cs = new JpaCapabilityStatementProvider(
                server, systemDao, storage, searchParams, validationSupport);
        cs.setImplementationDescription("nenfhir HAPI FHIR test server (R4)");
        // no resource counts in the CapabilityStatement: counting every type
        // made a tenant's first GET /metadata take 9 s and more under load
        cs.setIncludeResourceCounts(false);
        server.setServerConformanceProvider(cs);
        server.setPagingProvider(paging);
        server.setDefaultResponseEncoding(ca.uhn.fhir.rest.api.EncodingEnum.JSON);

        LoggingInterceptor access = new LoggingInterceptor();
        access.setLoggerName("nenfhir.hapi.access");
        access.setMessageFormat(
                "${requestVerb} ${requestUrl}${requestParameters} [${requestHeader.content-type}] ${requestHeader.user-agent} -> ${processingTimeMillis} ms");
        access.setErrorMessageFormat("ERROR ${requestVerb} ${requestUrl}${requestParameters} - ${exceptionMessage}");
        access.setLogExceptions(true);
        server.registerInterceptor(access);
        server.registerInterceptor(new SubscriptionDebugLogInterceptor());

        // Every write is validated against the R4 core definitions; an ERROR
        // (or FATAL) refuses the request with 422 and an OperationOutcome.
        RequestValidatingInterceptor validating = new RequestValidatingInterceptor();
        validating.setFailOnSeverity(ResultSeverityEnum.ERROR);
        validating.setValidatorModules(List.of(validatorModule));
        server.registerInterceptor(validating);

        // tenants: /fhir/<tenant>/... is HAPI partition <tenant> (TestControls makes it)
        if (partitioning.isPartitioningEnabled()) {
            server.setTenantIdentificationStrategy(new UrlBaseTenantIdentificationStrategy());
            RequestTenantPartitionInterceptor tenants = new RequestTenantPartitionInterceptor();
            tenants.setPartitionSettings(partitioning);
            server.registerInterceptor(tenants);
        }
        // test hooks per tenant: expired paging links (410), deletes despite references
        server.registerInterceptor(new TestHooks(dataSource, controls));
        return server;
    }

    @Bean
    public ServletRegistrationBean<RestfulServer> fhirServlet(RestfulServer server) {
        ServletRegistrationBean<RestfulServer> reg = new ServletRegistrationBean<>(server, "/fhir/*");
        reg.setLoadOnStartup(1);
        return reg;
    }
}
